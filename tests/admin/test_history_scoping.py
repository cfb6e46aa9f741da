"""Wagtail's audit log of wagtail-lti records, scoped by organization.

Reports → "Site history" lists the log entries of every model a user has a permission on; without
wagtail-lti's own log model (``LtiLogEntry``) an editor of one organization read there the names
and actions of every other organization's providers, links, organizations, memberships and
enrollments. Alice manages Engineering, Pat manages Partner Co; each does the same work in the
admin, and each one's Site history (listing, results, filters, CSV and XLSX exports) shows only
their own organization's entries. Whose history an editor reads is ``scoping.history_records``:
the records the admin lists for them (owned by organizations they manage) and the providers and
links their organizations may use: Pat's "shared tool" is available to Engineering, so Alice reads
its history, with Pat's name on it. Once a record is deleted, its entries stay visible to the
managers of the organization it belonged to.
"""

from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.admin.views.reports import audit_logging as site_history
from wagtail.log_actions import log
from wagtail.models import Collection, GroupPagePermission, ModelLogEntry, PageLogEntry

from tests.support.admin import link_post, provider_post, url
from tests.support.factories import make_course, make_learner, make_link, make_provider, site_root
from wagtail_lti.models import (
    Enrollment,
    LtiLogEntry,
    LtiProvider,
    LtiResourceLink,
    Organization,
    OrganizationMembership,
)


pytestmark = pytest.mark.django_db

SITE_HISTORY = reverse("wagtailadmin_reports:site_history")

SITE_HISTORY_RESULTS = reverse("wagtailadmin_reports:site_history_results")

ALICE_LABELS = {
    "Alice tool",
    "Alice tool v2",
    "Alice quiz",
    "Alice quiz v2",
    "Alice lab",
    "bob – Alice lab (Member)",
    "lee in Alice course (Learner)",
}
PAT_LABELS = {
    "Pat tool",
    "Pat tool v2",
    "Pat quiz",
    "Pat quiz v2",
    "Pat lab",
    "carol – Pat lab (Member)",
    "kim in Pat course (Learner)",
    "Pat shared tool",
}
#: Pat's records Alice reads the history of: shared with Engineering (its Availability tab).
SHARED_WITH_ALICE = {"Pat shared tool"}
PAT_PRIVATE = PAT_LABELS - SHARED_WITH_ALICE


def _ok(response):
    """A saved form: redirected (else the form's errors)."""
    if response.status_code == 200 and response.context and "form" in response.context:
        assert not response.context["form"].errors, response.context["form"].errors
    assert response.status_code == 302, response.status_code
    return response


def _work_in_the_admin(client, editor, organization, prefix, member, learner, *, shared_with=()):
    """What an editor does in the admin for their organization: a provider and a link (created,
    then renamed), a sub-organization, a membership in it, an enrollment in a course."""
    client.force_login(editor)
    key = f"{prefix.lower()}-key"
    _ok(
        client.post(
            url(LtiProvider, "add"),
            provider_post(organization, name=f"{prefix} tool", consumer_key=key, secret="s3cret"),
        )
    )
    provider = LtiProvider.objects.get(name=f"{prefix} tool")
    _ok(
        client.post(
            url(LtiProvider, "edit", provider.pk),
            provider_post(organization, name=f"{prefix} tool v2", consumer_key=key),
        )
    )
    _ok(
        client.post(
            url(LtiResourceLink, "add"), link_post(organization, provider, name=f"{prefix} quiz")
        )
    )
    link = LtiResourceLink.objects.get(name=f"{prefix} quiz")
    _ok(
        client.post(
            url(LtiResourceLink, "edit", link.pk),
            link_post(organization, provider, name=f"{prefix} quiz v2"),
        )
    )
    if shared_with:
        _ok(
            client.post(
                url(LtiProvider, "add"),
                provider_post(
                    organization,
                    name=f"{prefix} shared tool",
                    consumer_key=f"{key}-shared",
                    secret="s3cret",
                ),
            )
        )
        # Shared by someone who manages both organizations.
        shared = LtiProvider.objects.get(name=f"{prefix} shared tool")
        shared.available_to.add(*shared_with)
        shared.save()
    _ok(
        client.post(
            reverse("wagtail_lti_organizations:add"),
            {"name": f"{prefix} lab", "parent": organization.pk},
        )
    )
    lab = Organization.objects.get(name=f"{prefix} lab")
    _ok(
        client.post(
            reverse("wagtail_lti_memberships:add"),
            {"organization": lab.pk, "user": member.pk, "role": "member"},
        )
    )
    course = make_course(organization, [], title=f"{prefix} course")
    _ok(
        client.post(
            reverse("wagtail_lti_enrollments:add"),
            {
                "course": course.pk,
                "user": learner.pk,
                "role": "learner",
                "via": "class",
                "is_active": "on",
            },
        )
    )
    client.logout()
    return {"provider": provider, "link": link, "lab": lab, "course": course}


@pytest.fixture
def history(client, orgs, make_editor):
    alice = make_editor("alice", orgs["engineering"])
    pat = make_editor("pat", orgs["partner"])
    bob, carol = make_learner("bob"), make_learner("carol")
    lee, kim = make_learner("lee"), make_learner("kim")
    return {
        "alice": alice,
        "pat": pat,
        "mine": _work_in_the_admin(client, alice, orgs["engineering"], "Alice", bob, lee),
        "theirs": _work_in_the_admin(
            client, pat, orgs["partner"], "Pat", carol, kim, shared_with=[orgs["engineering"]]
        ),
    }


def _labels(response) -> set[str]:
    assert response.status_code == 200
    return {entry.label for entry in response.context["object_list"]}


def _export(client, fmt: str, query: str = "") -> str:
    response = client.get(f"{SITE_HISTORY}?export={fmt}{query}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "csv":
        return body.decode()
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(body)).active
    return "\n".join(
        "\t".join("" if cell is None else str(cell) for cell in row)
        for row in sheet.iter_rows(values_only=True)
    )


# --- Where entries go -----------------------------------------------------------------------------


def test_admin_actions_are_logged_to_the_lti_log_with_the_organization(history, orgs):
    mine = history["mine"]
    for record, organization in (
        (mine["provider"], orgs["engineering"]),
        (mine["link"], orgs["engineering"]),
        (mine["lab"], orgs["engineering"]),  # an organization: its parent
        (OrganizationMembership.objects.get(user__username="bob"), mine["lab"]),
        (Enrollment.objects.get(user__username="lee"), orgs["engineering"]),
    ):
        entries = LtiLogEntry.objects.for_instance(record)
        assert entries.exists(), record
        assert {e.organization_id for e in entries} == {organization.pk}, record
    lti_types = ContentType.objects.filter(app_label="wagtail_lti")
    assert not ModelLogEntry.objects.filter(content_type__in=lti_types).exists()
    actions = set(
        LtiLogEntry.objects.for_instance(mine["provider"]).values_list("action", flat=True)
    )
    assert {"wagtail.create", "wagtail.edit"} <= actions


# --- Site history -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "editor, own, other",
    [("alice", ALICE_LABELS | SHARED_WITH_ALICE, PAT_PRIVATE), ("pat", PAT_LABELS, ALICE_LABELS)],
)
def test_site_history_lists_only_the_editors_organization(client, history, editor, own, other):
    client.force_login(history[editor])
    for view in (SITE_HISTORY, SITE_HISTORY_RESULTS):
        response = client.get(view)
        labels = _labels(response)
        html = response.content.decode()
        assert own <= labels
        assert not labels & other
        assert not any(label in html for label in other - own)
    html = client.get(SITE_HISTORY).content.decode()
    if editor == "alice":  # the author of the shared tool's entries is shown
        assert "Pat Editor" in html
    else:
        assert "Alice Editor" not in html


def test_records_shared_with_the_editor_are_in_their_history(client, history):
    """The rule changed on purpose: a shared record's owner can change it for every organization
    that uses it, so their managers read its history (``scoping.history_records``)."""
    shared = LtiProvider.objects.get(name="Pat shared tool")
    assert shared.available_to.filter(name="Engineering").exists()
    client.force_login(history["alice"])
    assert "Pat shared tool" in _labels(client.get(SITE_HISTORY))


def test_site_history_exports(client, history):
    client.force_login(history["alice"])
    for fmt in ("csv", "xlsx"):
        body = _export(client, fmt)
        assert all(label in body for label in ALICE_LABELS), fmt
        assert not any(label in body for label in PAT_PRIVATE), fmt
        assert "Pat shared tool" in body and "Pat Editor" in body, fmt  # shared: with its author
        filtered = _export(client, fmt, "&label=tool")
        assert "Alice tool v2" in filtered and "Alice quiz" not in filtered
        assert "Pat tool" not in filtered


def test_site_history_filters(client, history):
    alice, pat = history["alice"], history["pat"]
    client.force_login(pat)
    theirs = history["theirs"]["link"]
    assert client.post(url(LtiResourceLink, "delete", theirs.pk)).status_code == 302
    client.force_login(alice)
    # The choices of the report's filters, from every log model's viewable_by_user.
    # Pat is a choice for Alice: the author of the shared tool's entries.
    assert set(site_history.get_users_for_filter(alice)) == {alice, pat}
    assert set(site_history.get_users_for_filter(pat)) == {pat}
    lti_types = {
        ContentType.objects.get_for_model(model)
        for model in (
            LtiProvider,
            LtiResourceLink,
            Organization,
            OrganizationMembership,
            Enrollment,
        )
    }
    assert set(site_history.get_content_types_for_filter(alice)) == lti_types
    response = client.get(SITE_HISTORY)
    assert set(response.context["filters"].form.fields["object_type"].queryset) == lti_types
    assert {"wagtail.create", "wagtail.edit"} <= {
        action for action, _label in site_history.get_actions_for_filter(alice)
    }
    assert "wagtail.delete" not in {  # only Pat deleted something
        action for action, _label in site_history.get_actions_for_filter(alice)
    }
    assert "wagtail.delete" in {
        action for action, _label in site_history.get_actions_for_filter(pat)
    }

    assert _labels(client.get(SITE_HISTORY, {"label": "Pat"})) == SHARED_WITH_ALICE
    assert _labels(client.get(SITE_HISTORY, {"label": "tool"})) == {
        "Alice tool",
        "Alice tool v2",
        *SHARED_WITH_ALICE,
    }
    provider_type = ContentType.objects.get_for_model(LtiProvider).pk
    assert _labels(client.get(SITE_HISTORY, {"object_type": provider_type})) == {
        "Alice tool",
        "Alice tool v2",
        *SHARED_WITH_ALICE,
    }
    # Filtering by another organization's editor shows only what they did to shared records.
    assert _labels(client.get(SITE_HISTORY, {"user": pat.pk})) & PAT_LABELS == SHARED_WITH_ALICE
    assert not _labels(client.get(SITE_HISTORY, {"action": "wagtail.delete"})) & PAT_PRIVATE
    assert _labels(client.get(SITE_HISTORY, {"action": "wagtail.create"})) & PAT_LABELS == (
        SHARED_WITH_ALICE
    )


def test_superuser_sees_everything(client, history, superuser):
    client.force_login(superuser)
    labels = _labels(client.get(SITE_HISTORY))
    assert ALICE_LABELS | PAT_LABELS <= labels
    body = _export(client, "csv")
    assert all(label in body for label in ALICE_LABELS | PAT_LABELS)


def test_an_editor_without_organizations_sees_no_lti_entries(client, history, make_editor):
    nobody = make_editor("nobody")
    client.force_login(nobody)
    assert not _labels(client.get(SITE_HISTORY)) & (ALICE_LABELS | PAT_LABELS)


def test_model_permissions_still_apply(client, history, orgs):
    """Managing an organization is not enough: Wagtail's model permission test still applies."""
    alice = history["alice"]
    alice.groups.clear()
    alice.user_permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="change_ltiprovider"),
    )
    client.force_login(alice)
    assert _labels(client.get(SITE_HISTORY)) == {"Alice tool", "Alice tool v2", *SHARED_WITH_ALICE}


def test_deleted_records_stay_with_the_organization_they_belonged_to(client, history, superuser):
    alice, pat = history["alice"], history["pat"]
    link = history["mine"]["link"]
    client.force_login(alice)
    assert client.post(url(LtiResourceLink, "delete", link.pk)).status_code == 302
    assert not LtiResourceLink.objects.filter(pk=link.pk).exists()
    theirs = OrganizationMembership.objects.get(user__username="carol")
    client.force_login(pat)
    assert (
        client.post(reverse("wagtail_lti_memberships:delete", args=[theirs.pk])).status_code == 302
    )

    client.force_login(alice)
    response = client.get(SITE_HISTORY)
    labels = _labels(response)
    assert {"Alice quiz", "Alice quiz v2"} <= labels
    deleted = [e for e in response.context["object_list"] if e.action == "wagtail.delete"]
    assert [e.label for e in deleted] == ["Alice quiz v2"]
    assert "carol – Pat lab (Member)" not in labels

    client.force_login(pat)
    labels = _labels(client.get(SITE_HISTORY))
    assert "carol – Pat lab (Member)" in labels and not labels & {"Alice quiz", "Alice quiz v2"}

    client.force_login(superuser)
    assert {"Alice quiz v2", "carol – Pat lab (Member)"} <= _labels(client.get(SITE_HISTORY))


def test_a_moved_record_goes_with_its_history(client, history, orgs, superuser):
    """The history of a record that exists follows the record: its current organization decides."""
    alice, pat = history["alice"], history["pat"]
    wanderer = make_provider(orgs["engineering"], name="Wanderer")
    log(wanderer, "wagtail.create", user=alice)
    wanderer.organization = orgs["partner"]
    wanderer.save()
    log(wanderer, "wagtail.edit", user=superuser)
    client.force_login(alice)
    assert "Wanderer" not in _labels(client.get(SITE_HISTORY))
    client.force_login(pat)
    response = client.get(SITE_HISTORY)
    assert [e.action for e in response.context["object_list"] if e.label == "Wanderer"] == [
        "wagtail.edit",
        "wagtail.create",
    ]


def test_a_sub_organization_is_in_its_managers_history(client, history, orgs, make_editor):
    """Managers of a parent organization see the history of its sub-organizations' records."""
    acme_manager = make_editor("ada", orgs["acme"])
    client.force_login(acme_manager)
    labels = _labels(client.get(SITE_HISTORY))
    assert ALICE_LABELS <= labels and not labels & PAT_PRIVATE  # shared with Engineering: read


def test_the_query_count_does_not_grow_with_the_entries(client, history, orgs):
    client.force_login(history["alice"])

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(SITE_HISTORY).status_code == 200
        return len(queries)

    before = count()
    for n in range(6):
        for side, organization in (("mine", orgs["engineering"]), ("theirs", orgs["partner"])):
            provider = make_provider(organization, name=f"Extra {organization.pk}-{n}")
            log(provider, "wagtail.create", user=history["alice"])
            log(
                make_link(
                    provider, organization=organization, name=f"Extra link {organization.pk}-{n}"
                ),
                "wagtail.create",
            )
            person = make_learner(f"extra-{side}-{n}")
            membership = OrganizationMembership.objects.create(
                organization=history[side]["lab"], user=person
            )
            log(membership, "wagtail.create")
            course = history[side]["course"]
            log(Enrollment.objects.create(course=course, user=person), "wagtail.create")
            log(Organization.objects.get(pk=history[side]["lab"].pk), "wagtail.edit")
    assert len(_labels(client.get(SITE_HISTORY))) > 30
    assert count() == before


# --- Other log models are left to Wagtail -------------------------------------------------------


def test_page_entries_are_unaffected(client, history, superuser):
    alice, pat = history["alice"], history["pat"]
    home = site_root()
    page_editors = Group.objects.create(name="Page editors")
    page_editors.permissions.add(Permission.objects.get(codename="access_admin"))
    GroupPagePermission.objects.create(group=page_editors, page=home, permission_type="change")
    alice.groups.add(page_editors)
    log(home, "wagtail.edit", user=superuser, title="Home page edited")
    assert PageLogEntry.objects.filter(label="Home page edited").exists()

    client.force_login(alice)
    labels = _labels(client.get(SITE_HISTORY))
    assert "Home page edited" in labels and "Pat course" in labels  # pages: Wagtail's rule
    assert not labels & PAT_PRIVATE
    client.force_login(pat)
    assert "Home page edited" not in _labels(client.get(SITE_HISTORY))
    client.force_login(superuser)
    assert "Home page edited" in _labels(client.get(SITE_HISTORY))


def test_other_models_entries_are_unaffected(client, history, superuser):
    alice, pat = history["alice"], history["pat"]
    docs = Collection.get_first_root_node().add_child(name="Handbooks")
    log(docs, "wagtail.create", user=superuser)
    assert ModelLogEntry.objects.filter(label="Handbooks").exists()
    alice.user_permissions.add(Permission.objects.get(codename="add_collection"))
    client.force_login(alice)
    assert "Handbooks" in _labels(client.get(SITE_HISTORY))
    client.force_login(pat)
    assert "Handbooks" not in _labels(client.get(SITE_HISTORY))


# --- The record's own history -------------------------------------------------------------------


@pytest.mark.parametrize("model", [LtiProvider, LtiResourceLink], ids=["provider", "link"])
def test_own_history_page_lists_the_records_entries(client, history, model):
    key = "provider" if model is LtiProvider else "link"
    mine, theirs = history["mine"][key], history["theirs"][key]
    client.force_login(history["alice"])
    response = client.get(url(model, "history", mine.pk))
    assert response.status_code == 200
    assert {e.action for e in response.context["object_list"]} >= {"wagtail.create", "wagtail.edit"}
    assert client.get(url(model, "history", theirs.pk)).status_code == 404
    assert client.get(url(model, "edit", mine.pk)).status_code == 200  # "last updated" side panel


def test_organization_membership_and_enrollment_history_pages(client, history):
    client.force_login(history["alice"])
    lab = history["mine"]["lab"]
    response = client.get(reverse("wagtail_lti_organizations:history", args=[lab.pk]))
    assert response.status_code == 200 and response.context["object_list"]
    membership = OrganizationMembership.objects.get(user__username="bob")
    response = client.get(reverse("wagtail_lti_memberships:history", args=[membership.pk]))
    assert response.status_code == 200 and response.context["object_list"]
    enrollment = Enrollment.objects.get(user__username="lee")
    response = client.get(reverse("wagtail_lti_enrollments:history", args=[enrollment.pk]))
    assert response.status_code == 200 and response.context["object_list"]


# --- The migration of earlier entries -----------------------------------------------------------


def test_migration_moves_earlier_entries_and_back(orgs, superuser):
    migration = importlib.import_module("wagtail_lti.migrations.0002_ltilogentry")
    provider = make_provider(orgs["engineering"], name="Old tool")
    provider_type = ContentType.objects.get_for_model(LtiProvider)
    old = [
        ModelLogEntry.objects.create(
            content_type=provider_type,
            object_id=str(provider.pk),
            label="Old tool",
            action="wagtail.create",
            timestamp=provider.created_at,
            user=superuser,
        ),
        ModelLogEntry.objects.create(
            content_type=provider_type,
            object_id="999999",
            label="Gone tool",
            action="wagtail.delete",
            timestamp=provider.created_at,
            deleted=True,
        ),
    ]
    docs = Collection.get_first_root_node().add_child(name="Handbooks")
    other = ModelLogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Collection),
        object_id=str(docs.pk),
        label="Handbooks",
        action="wagtail.create",
        timestamp=provider.created_at,
    )

    migration.move_to_lti_log(django_apps, None)
    assert not ModelLogEntry.objects.filter(pk__in=[e.pk for e in old]).exists()
    moved = {e.label: e for e in LtiLogEntry.objects.filter(label__in=["Old tool", "Gone tool"])}
    assert moved["Old tool"].organization_id == orgs["engineering"].pk
    assert moved["Old tool"].user_id == superuser.pk
    assert moved["Old tool"].timestamp == old[0].timestamp
    assert moved["Gone tool"].organization_id is None and moved["Gone tool"].deleted
    assert ModelLogEntry.objects.filter(pk=other.pk).exists()

    migration.move_back_to_model_log(django_apps, None)
    assert not LtiLogEntry.objects.filter(label__in=["Old tool", "Gone tool"]).exists()
    assert set(
        ModelLogEntry.objects.filter(content_type=provider_type).values_list("label", flat=True)
    ) == {"Old tool", "Gone tool"}
