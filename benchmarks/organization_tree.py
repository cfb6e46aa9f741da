"""Organization scoping in a tree of 10,010 organizations: the query count does not depend on the
size of the tree; times are reported.

Measured with a tree of 210 organizations (one team per department), then again after growing it to 10,010 (10 roots x 10
departments x 99 teams), for:

* the availability check: may an organization (a team three levels down) use a provider
  (``scoping.is_usable_by``), and the providers it may use (``scoping.usable_by``);
* the editor's "organizations you manage": ``scoping.managed_organizations`` (its first page of
  50 and its count) and the admin's organization chooser (``wagtail_lti_organization_chooser``)
  rendered for an editor managing three roots (3,003 organizations) through Django's test client.

Run from the project root::

    .venv/bin/python benchmarks/organization_tree.py [rounds]

On PostgreSQL: ``DATABASE_URL=postgres://... .venv/bin/python benchmarks/organization_tree.py``.
"""

from __future__ import annotations

import sys

from _harness import database, median_ms, print_machine


ROOTS, DEPARTMENTS, TEAMS = 10, 10, 99


def build_tree(teams_per_department: int) -> None:
    """Roots and departments once; teams up to ``teams_per_department`` (bulk inserts, with the
    materialized paths treebeard would compute)."""
    from django.db import transaction

    from wagtail_lti.models import Organization

    with transaction.atomic():
        if not Organization.objects.exists():
            roots = [
                Organization(
                    path=Organization._get_path(None, 1, r + 1), depth=1, name=f"Company {r:02d}"
                )
                for r in range(ROOTS)
            ]
            Organization.objects.bulk_create(roots)
            departments = [
                Organization(
                    path=Organization._get_path(root.path, 2, d + 1),
                    depth=2,
                    name=f"Company {r:02d} department {d:02d}",
                )
                for r, root in enumerate(roots)
                for d in range(DEPARTMENTS)
            ]
            Organization.objects.bulk_create(departments)
        departments = list(Organization.objects.filter(depth=2).order_by("path"))
        teams = []
        for department in departments:
            existing = department.numchild
            for t in range(existing, teams_per_department):
                teams.append(
                    Organization(
                        path=Organization._get_path(department.path, 3, t + 1),
                        depth=3,
                        name=f"{department.name} team {t:02d}",
                    )
                )
        Organization.objects.bulk_create(teams, batch_size=2000)
        Organization.objects.filter(depth=1).update(numchild=DEPARTMENTS)
        Organization.objects.filter(depth=2).update(numchild=teams_per_department)


def seed_records():
    """Providers owned across the tree and made available to a few departments, and editors."""
    from django.contrib.auth import get_user_model

    from wagtail_lti.models import LtiProvider, Organization, OrganizationMembership

    departments = list(Organization.objects.filter(depth=2).order_by("path"))
    for n in range(30):
        provider = LtiProvider(
            name=f"Tool {n}",
            organization=departments[(n * 7) % len(departments)],
            lti_version="1.1",
            consumer_key=f"k{n}",
        )
        provider.secret = "s"
        provider.save()
        provider.available_to.set(departments[(n * 3) % len(departments) :][:3])
    User = get_user_model()
    editor = User.objects.create_user("editor", "editor@example.com", None, is_staff=True)
    from django.contrib.auth.models import Permission

    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    roots = list(Organization.objects.filter(depth=1).order_by("path")[:3])
    for root in roots:
        OrganizationMembership.objects.create(
            user=editor, organization=root, role=OrganizationMembership.Role.MANAGER
        )
    return editor


def measure(editor, rounds: int) -> dict[str, tuple[int, float]]:
    """(queries, median ms) of each operation."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from wagtail_lti import scoping
    from wagtail_lti.models import LtiProvider, Organization

    team = Organization.objects.filter(depth=3).order_by("-path").first()
    provider = LtiProvider.objects.order_by("pk").first()
    client = Client()
    client.force_login(editor)
    chooser = reverse("wagtail_lti_organization_chooser:choose")

    def fresh_editor():
        # The managed roots are cached on the user object for one request: start cold each time.
        editor.__dict__.pop("_wagtail_lti_managed_paths", None)
        return editor

    operations = {
        "is_usable_by(provider, team)": lambda: scoping.is_usable_by(provider, team),
        "usable_by(providers, team)": lambda: list(
            scoping.usable_by(LtiProvider.objects.all(), team)
        ),
        "managed_organizations: first 50": lambda: list(
            scoping.managed_organizations(fresh_editor()).order_by("path")[:50]
        ),
        "managed_organizations: count": lambda: scoping.managed_organizations(
            fresh_editor()
        ).count(),
        "organization chooser (admin page)": lambda: client.get(chooser),
    }
    results = {}
    for name, operation in operations.items():
        operation()
        with CaptureQueriesContext(connection) as captured:
            operation()
        results[name] = (len(captured.captured_queries), median_ms(operation, rounds))
    answer = client.get(chooser)
    assert answer.status_code == 200, answer.status_code
    return results


def main(rounds: int = 30) -> None:
    print_machine()
    with database():
        from wagtail_lti.models import Organization

        build_tree(teams_per_department=1)
        editor = seed_records()
        small_count = Organization.objects.count()
        small = measure(editor, rounds)
        build_tree(teams_per_department=TEAMS)
        big_count = Organization.objects.count()
        managed = Organization.objects.filter(depth__gte=1).count() * 3 // ROOTS
        big = measure(editor, rounds)

    print()
    print(f"Organization scoping, median of {rounds} rounds; the editor manages 3 of {ROOTS} roots")
    print(
        f"  {'operation':38s} {'queries':>17s}   {'time, ms':>19s}"
        f"\n  {'':38s} {small_count:>7d} {big_count:>9d}   {small_count:>9d} {big_count:>9d}"
    )
    constant = True
    for name in small:
        (q1, t1), (q2, t2) = small[name], big[name]
        constant &= q1 == q2
        print(f"  {name:38s} {q1:7d} {q2:9d}   {t1:9.2f} {t2:9.2f}")
    print(f"  (the editor manages about {managed} organizations in the big tree)")
    print(f"  query counts {'constant' if constant else 'GROW with the tree'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
