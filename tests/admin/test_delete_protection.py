"""Deleting a record in use is refused, with a message naming what uses it; nothing is deleted."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from wagtail.models import Page

from tests.support.admin import text, url
from tests.support.factories import make_link, make_provider
from wagtail_lti.models import LineItem, LtiProvider, LtiResourceLink, Placement


pytestmark = pytest.mark.django_db


@pytest.fixture
def client_alice(client, orgs, make_editor):
    client.force_login(make_editor("alice", orgs["acme"]))
    return client


def _messages(response):
    return [str(m).strip() for m in get_messages(response.wsgi_request)]


def test_provider_used_by_resource_links_cannot_be_deleted(client_alice, orgs):
    provider = make_provider(orgs["engineering"], name="Moodle")
    make_link(provider, organization=orgs["engineering"], name="Contract quiz")
    make_link(
        provider, organization=orgs["partner"], name="Partner quiz"
    )  # not Alice's: counted, not named

    response = client_alice.get(url(LtiProvider, "delete", provider.pk))
    assert response.status_code == 200
    page = text(response)
    assert "cannot be deleted because it is in use by" in page
    assert "LTI resource link “Contract quiz”" in page
    assert "1 record of an organization you do not manage" in page
    assert "Partner quiz" not in page
    assert "Yes, delete" not in page

    response = client_alice.post(url(LtiProvider, "delete", provider.pk))
    assert response.status_code == 200
    (message,) = _messages(response)
    assert message.startswith(
        "“Moodle” cannot be deleted because it is in use by: LTI resource link “Contract quiz”"
    )
    assert LtiProvider.objects.filter(pk=provider.pk).exists()


def test_provider_with_gradebook_columns_cannot_be_deleted(client_alice, orgs):
    provider = make_provider(orgs["engineering"], name="Grader")
    course = Page.objects.get(depth=2)
    LineItem.objects.create(provider=provider, course=course, label="Final exam")
    response = client_alice.post(url(LtiProvider, "delete", provider.pk))
    assert response.status_code == 200
    assert "gradebook column “Final exam”" in _messages(response)[0]
    assert LtiProvider.objects.filter(pk=provider.pk).exists()


def test_link_used_by_pages_cannot_be_deleted(client_alice, orgs):
    provider = make_provider(orgs["engineering"], name="Moodle")
    link = make_link(provider, organization=orgs["engineering"], name="Contract quiz")
    course = Page.objects.get(depth=2)
    Placement.objects.create(page=course, block_id="block-1", resource_link=link)
    Placement.objects.create(page=course, block_id="block-2", resource_link=link)

    response = client_alice.get(url(LtiResourceLink, "delete", link.pk))
    assert _page_label(course) in text(response)
    response = client_alice.post(url(LtiResourceLink, "delete", link.pk))
    assert response.status_code == 200
    (message,) = _messages(response)
    assert message == (
        f"“Contract quiz” cannot be deleted because it is in use by: {_page_label(course)}."
    )
    assert LtiResourceLink.objects.filter(pk=link.pk).exists()
    assert Placement.objects.filter(resource_link=link).count() == 2


def test_unused_records_can_be_deleted(client_alice, orgs):
    provider = make_provider(orgs["engineering"], name="Moodle")
    link = make_link(provider, organization=orgs["engineering"], name="Contract quiz")
    assert client_alice.post(url(LtiResourceLink, "delete", link.pk)).status_code == 302
    assert client_alice.post(url(LtiProvider, "delete", provider.pk)).status_code == 302
    assert not LtiProvider.objects.exists() and not LtiResourceLink.objects.exists()


def test_bulk_delete_refuses_records_in_use(client_alice, orgs):
    used = make_provider(orgs["engineering"], name="Used")
    unused = make_provider(orgs["engineering"], name="Unused")
    make_link(used, organization=orgs["engineering"], name="Quiz")
    path = reverse("wagtail_bulk_action", args=("wagtail_lti", "ltiprovider", "delete"))
    response = client_alice.post(f"{path}?id={used.pk}&id={unused.pk}")
    assert response.status_code == 302
    (message,) = _messages(response)
    assert "“Used” cannot be deleted because it is in use by: LTI resource link “Quiz”" in message
    assert LtiProvider.objects.count() == 2  # nothing deleted half-way


def test_link_on_a_draft_course_page_cannot_be_deleted(client_alice, orgs):
    """No placement yet (the page is not published): Wagtail's reference index knows the use."""
    from tests.support.factories import make_course

    provider = make_provider(orgs["engineering"], name="Moodle")
    link = make_link(provider, organization=orgs["engineering"], name="Draft quiz")
    course = make_course(orgs["engineering"], [link], title="Contract law", publish=False)
    assert not Placement.objects.filter(resource_link=link).exists()
    response = client_alice.post(url(LtiResourceLink, "delete", link.pk))
    assert response.status_code == 200
    (message,) = _messages(response)
    assert f"course page “{course.title}”" in message
    assert LtiResourceLink.objects.filter(pk=link.pk).exists()


def test_link_whose_blocks_were_removed_can_be_deleted(client_alice, orgs):
    """An inactive placement (block removed from the published page) keeps its results only."""
    provider = make_provider(orgs["engineering"], name="Moodle")
    link = make_link(provider, organization=orgs["engineering"], name="Old quiz")
    placement = Placement.objects.create(
        page=Page.objects.get(depth=2), block_id="gone", resource_link=link, is_active=False
    )
    assert client_alice.post(url(LtiResourceLink, "delete", link.pk)).status_code == 302
    placement.refresh_from_db()
    assert placement.resource_link is None


def _page_label(page) -> str:
    page = page.specific
    return f"{page._meta.verbose_name} “{page.title.strip()}”"
