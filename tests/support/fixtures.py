"""The shared fixtures (a pytest plugin, loaded by tests/conftest.py).

An organization tree::

    Acme (company)
    ├── Engineering
    │   └── Platform team
    └── Sales
    Partner Co (partner)

editors who manage organizations (``make_editor``), a superuser, and a graded activity placed on a
published course page (``provider``, ``link``, ``course``) with a ``learner``. What a process keeps
between requests is forgotten before each test.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from tests.support.factories import make_course, make_learner, make_link, make_provider


@pytest.fixture
def orgs(db):
    from wagtail_lti.models import Organization

    acme = Organization.add_root(name="Acme")
    engineering = acme.add_child(name="Engineering")
    platform = engineering.add_child(name="Platform team")
    sales = acme.add_child(name="Sales")
    partner = Organization.add_root(name="Partner Co")
    for org in (acme, engineering, sales, partner):
        org.refresh_from_db()
    return {
        "acme": acme,
        "engineering": engineering,
        "platform": platform,
        "sales": sales,
        "partner": partner,
    }


def _editor_group() -> Group:
    """A Wagtail editors group with admin access and every LTI snippet permission."""
    group, _ = Group.objects.get_or_create(name="LTI editors")
    perms = Permission.objects.filter(
        content_type__app_label="wagtail_lti",
    ) | Permission.objects.filter(codename="access_admin")
    group.permissions.add(*perms)
    return group


@pytest.fixture
def make_editor(db):
    """``make_editor("alice", org)``: a non-superuser editor who manages ``org``."""
    from wagtail_lti.models import OrganizationMembership

    def make(username: str, *organizations, password: str = "password"):
        user = get_user_model().objects.create_user(
            username=username,
            password=password,
            email=f"{username}@example.com",
            first_name=username.title(),
            last_name="Editor",
        )
        user.groups.add(_editor_group())
        for org in organizations:
            OrganizationMembership.objects.create(
                user=user, organization=org, role=OrganizationMembership.Role.MANAGER
            )
        return user

    return make


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("admin", "admin@example.com", "password")


@pytest.fixture(autouse=True)
def _fresh_site_root_paths():
    """Wagtail caches the sites' root paths in the default cache, which outlives the database
    rollback between tests: a test that changed the sites would leave page URLs wrong for the next."""
    from wagtail.models import Site

    Site.clear_site_root_paths_cache()
    yield
    Site.clear_site_root_paths_cache()


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """What a process keeps between requests outlives the database rollback between tests (on
    SQLite a new test's rows can even get the primary keys of the last test's): start each test
    as a new process would. Within a test, nothing is cleared: changes must be noticed."""
    from wagtail_lti.launch import targets as launch_targets
    from wagtail_lti.security import platform_keys

    launch_targets.forget_kept_targets()
    platform_keys.clear_cache()
    yield


@pytest.fixture(autouse=True)
def _own_refusal_budget(monkeypatch):
    """The launch log's budget of refused requests is counted per minute in the shared cache,
    which outlives each test: each test counts in a minute of its own."""
    import secrets

    from wagtail_lti import launch_log

    minute = secrets.randbelow(10**12)
    monkeypatch.setattr(launch_log, "_minute", lambda: minute)


@pytest.fixture
def provider(orgs):
    return make_provider(orgs["acme"])


@pytest.fixture
def link(provider):
    return make_link(provider, requires_score=True, score_maximum=100)


@pytest.fixture
def course(orgs, link):
    return make_course(orgs["engineering"], [link], title="Engineering basics")


@pytest.fixture
def learner(db):
    return make_learner()
