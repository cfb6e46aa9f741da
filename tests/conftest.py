"""Shared fixtures: an organization tree and users with different roles.

Tree::

    Acme (company)
    ├── Engineering
    │   └── Platform team
    └── Sales
    Partner Co (partner)
"""

from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission


# Fixtures of course pages, activities and enrollments (``course``, ``link``, ``learner``, ...).
pytest_plugins = ["tests.course_fixtures"]

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# inside one unless told it is safe (browser tests only touch the ORM between page actions).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config):
    """Tests create and sign in hundreds of users: hash their passwords with a fast hasher.

    Django's default (PBKDF2, a million iterations) costs about half a second per hash; the suite
    would spend minutes on it. Never do this outside tests. Server processes that tests start
    (gunicorn, with the example site's settings) inherit ``FAST_PASSWORD_HASHER`` and use the same
    hasher, so the users a test creates can sign in there too.
    """
    from django.conf import settings

    os.environ["FAST_PASSWORD_HASHER"] = "1"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
            username=username, password=password, email=f"{username}@example.com",
            first_name=username.title(), last_name="Editor",
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
