"""A provider's status label: enabled, disabled by an editor, or a registration waiting for review.

The rule is ``LtiProvider.status`` (``models/providers.py``); the listing and the launch ask it.
"""

from __future__ import annotations

import pytest

from tests.support.admin import text, url
from tests.support.factories import make_provider
from wagtail_lti.models import LtiProvider


pytestmark = pytest.mark.django_db


# --- The rule -----------------------------------------------------------------------------------


def test_status_of_an_enabled_a_disabled_and_an_unreviewed_provider(orgs):
    enabled = make_provider(orgs["acme"], name="On")
    disabled = make_provider(orgs["acme"], name="Off", is_enabled=False)
    waiting = make_provider(orgs["acme"], name="New", is_enabled=False, awaiting_review=True)

    assert enabled.status == LtiProvider.Status.ENABLED and enabled.status_label == "Enabled"
    assert disabled.status == LtiProvider.Status.DISABLED and disabled.status_label == "Disabled"
    assert waiting.status == LtiProvider.Status.AWAITING_REVIEW
    assert waiting.status_label == "Waiting for review"


def test_enabling_ends_the_review_for_good(orgs):
    """Once an editor has enabled a registered tool, switching it off makes it "Disabled"."""
    provider = make_provider(orgs["acme"], is_enabled=False, awaiting_review=True)
    provider.is_enabled = True
    provider.save(update_fields=["is_enabled"])
    provider.refresh_from_db()
    assert provider.awaiting_review is False

    provider.is_enabled = False
    provider.save()
    provider.refresh_from_db()
    assert provider.status == LtiProvider.Status.DISABLED


def test_a_revision_never_brings_the_review_back(orgs):
    provider = make_provider(orgs["acme"], is_enabled=False, awaiting_review=True)
    revision = provider.save_revision()
    provider.is_enabled = True
    provider.save()
    provider.is_enabled = False
    provider.save()
    restored = provider.with_content_json(revision.content)
    assert "awaiting_review" not in revision.content
    assert restored.status == LtiProvider.Status.DISABLED


# --- The listing --------------------------------------------------------------------------------


def status_cell(listing: str, name: str) -> str:
    row = listing[listing.index(name) :]
    return row[: row.index("</tr>")]


def test_listing_says_disabled_for_a_provider_an_editor_switched_off(client, superuser, orgs):
    make_provider(orgs["acme"], name="Switched off tool", is_enabled=False)
    make_provider(orgs["acme"], name="Registered tool", is_enabled=False, awaiting_review=True)
    make_provider(orgs["acme"], name="Working tool")
    client.force_login(superuser)

    listing = client.get(url(LtiProvider, "list")).content.decode()

    assert "Disabled" in status_cell(listing, "Switched off tool")
    assert "review" not in status_cell(listing, "Switched off tool").lower()
    assert "Waiting for review" in status_cell(listing, "Registered tool")
    assert "Enabled" in status_cell(listing, "Working tool")


def test_editor_form_saving_a_registered_tool_enabled_ends_its_review(client, superuser, orgs):
    from tests.support.admin import lti13_post

    provider = make_provider(
        orgs["acme"], name="Registered", version="1.3", key="", is_enabled=False
    )
    LtiProvider.objects.filter(pk=provider.pk).update(awaiting_review=True)
    client.force_login(superuser)
    data = lti13_post(orgs["acme"], name="Registered", is_enabled="on")
    response = client.post(url(LtiProvider, "edit", provider.pk), data)
    assert response.status_code == 302, text(response)
    provider.refresh_from_db()
    assert provider.is_enabled and not provider.awaiting_review


@pytest.mark.parametrize(
    ("awaiting_review", "words"),
    [(True, "Review and enable"), (False, "has since been disabled")],
)
def test_review_panel_tells_a_waiting_registration_from_a_disabled_tool(
    client, superuser, orgs, awaiting_review, words
):
    from django.utils import timezone

    from wagtail_lti.models import ToolRegistration

    provider = make_provider(
        orgs["acme"], version="1.3", key="", is_enabled=False, awaiting_review=awaiting_review
    )
    ToolRegistration.objects.create(
        token_hash="x" * 64,
        user=superuser,
        organization=orgs["acme"],
        tool_url="https://tool.example/register",
        expires_at=timezone.now(),
        used_at=timezone.now(),
        provider=provider,
    )
    client.force_login(superuser)
    page = client.get(url(LtiProvider, "edit", provider.pk)).content.decode()
    review = page[page.index("data-registration-review") :]
    review = review[: review.index("</div>")]
    assert words in review
    assert ("Review and enable" in review) is awaiting_review
