"""The LTI Resource Link snippet: provider usable by the link's organization, URL checks, chooser."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from tests.support.admin import chooser_url, field_errors, link_post, text, url
from tests.support.factories import make_link, make_provider
from wagtail_lti.models import LtiProvider, LtiResourceLink


pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(orgs, make_editor):
    """Manages Engineering (and the Platform team) and Sales."""
    return make_editor("alice", orgs["engineering"], orgs["sales"])


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def providers(orgs):
    """Who may use which provider (availability rule)."""
    return {
        # Owned by Engineering: Engineering and the Platform team may use it.
        "eng": make_provider(orgs["engineering"], name="Engineering tool"),
        # Owned by Partner Co, shared with Acme: every Acme organization may use it.
        "shared": make_provider(orgs["partner"], name="Shared tool", available_to=[orgs["acme"]]),
        # Owned by Partner Co, shared with nobody.
        "private": make_provider(orgs["partner"], name="Partner's private tool"),
    }


def test_create_resource_link(client_alice, orgs, providers):
    data = link_post(
        orgs["platform"],
        providers["shared"],
        custom_parameters="custom_chapter=3",
        requires_score="on",
        score_maximum="50",
        open_in="window",
        available_to=[orgs["engineering"]],
    )
    response = client_alice.post(url(LtiResourceLink, "add"), data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    link = LtiResourceLink.objects.get()
    assert (link.organization, link.provider) == (orgs["platform"], providers["shared"])
    assert link.url == "https://tool.example.com/activity/42"
    assert link.requires_score and link.score_maximum == 50 and link.open_in == "window"
    assert list(link.available_to.all()) == [orgs["engineering"]]
    assert link.custom_parameters == "custom_chapter=3"


def test_link_form_passes_the_organization_to_the_provider_chooser(client_alice):
    response = client_alice.get(url(LtiResourceLink, "add"))
    html = response.content.decode()
    assert '"linkedFields": {"organization": "#id_organization"}' in html
    assert "Choose LTI provider" in html


def test_handmade_post_with_a_provider_the_organization_may_not_use(client_alice, orgs, providers):
    """The provider exists and Alice may see it (her Engineering owns it), but Sales may not use it."""
    response = client_alice.post(
        url(LtiResourceLink, "add"), link_post(orgs["sales"], providers["eng"])
    )
    assert response.status_code == 200
    (error,) = field_errors(response, "provider")
    assert error.startswith("“Engineering tool” cannot be used by Sales")
    assert "Availability tab" in error
    assert not LtiResourceLink.objects.exists()


def test_handmade_post_with_a_provider_from_outside(client_alice, orgs, providers):
    """A provider none of Alice's organizations may use: refused without naming it."""
    response = client_alice.post(
        url(LtiResourceLink, "add"), link_post(orgs["engineering"], providers["private"])
    )
    assert response.status_code == 200
    assert field_errors(response, "provider") == [
        "Choose an LTI provider that an organization you manage may use."
    ]
    assert "Partner&#x27;s private tool" not in response.content.decode()
    assert "Partner's private tool" not in response.content.decode()
    assert not LtiResourceLink.objects.exists()


def test_handmade_post_setting_another_editors_organization_as_owner(
    client_alice, orgs, providers, make_editor
):
    make_editor("pat", orgs["partner"])
    link = make_link(providers["eng"], organization=orgs["engineering"], name="Mine")
    response = client_alice.post(
        url(LtiResourceLink, "edit", link.pk),
        link_post(orgs["partner"], providers["shared"], name="Mine"),
    )
    assert response.status_code == 200
    assert field_errors(response, "organization") == [
        "Choose an organization you manage: you may not assign records to this one."
    ]
    assert "Partner Co" not in response.content.decode()  # the chooser does not reveal its name
    link.refresh_from_db()
    assert (link.organization, link.provider) == (orgs["engineering"], providers["eng"])


def test_availability_organizations_must_be_able_to_use_the_provider(client_alice, orgs, providers):
    response = client_alice.post(
        url(LtiResourceLink, "add"),
        link_post(orgs["engineering"], providers["eng"], available_to=[orgs["sales"]]),
    )
    assert response.status_code == 200
    (error,) = field_errors(response, "available_to")
    assert "cannot use the provider “Engineering tool”" in error and "Sales" in error
    assert not LtiResourceLink.objects.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("javascript:alert(document.cookie)", "“javascript:” addresses are not allowed."),
        (" JavaScript:alert(1)", "“javascript:” addresses are not allowed."),
        ("data:text/html,<script>alert(1)</script>", "“data:” addresses are not allowed."),
        ("not a url", "Enter an absolute web address starting with https:// or http://"),
        ("tool.example.com/activity", "Enter an absolute web address starting with https://"),
        ("/relative/path", "Enter an absolute web address starting with https://"),
        ("ftp://files.example.com/a", "Enter an absolute web address starting with https://"),
        ("https://", "Enter an absolute web address starting with https://"),
        ("http://exa mple.com/", "Enter an absolute web address starting with https://"),
    ],
)
def test_resource_link_url_must_be_absolute_http(client_alice, orgs, providers, value, message):
    response = client_alice.post(
        url(LtiResourceLink, "add"), link_post(orgs["engineering"], providers["eng"], url=value)
    )
    assert response.status_code == 200
    (error,) = field_errors(response, "url")
    assert error.startswith(message)
    assert not LtiResourceLink.objects.exists()


def test_custom_parameters_on_links_are_checked(client_alice, orgs, providers):
    response = client_alice.post(
        url(LtiResourceLink, "add"),
        link_post(
            orgs["engineering"], providers["eng"], custom_parameters="custom_a=1\ncustom-b=2"
        ),
    )
    assert response.status_code == 200
    (error,) = field_errors(response, "custom_parameters")
    assert error.startswith("Line 2: “custom-b” is not a valid name")
    assert not LtiResourceLink.objects.exists()


def test_maximum_score_must_be_positive(client_alice, orgs, providers):
    response = client_alice.post(
        url(LtiResourceLink, "add"),
        link_post(orgs["engineering"], providers["eng"], requires_score="on", score_maximum="0"),
    )
    assert field_errors(response, "score_maximum") == [
        "The maximum score must be greater than zero."
    ]
    assert not LtiResourceLink.objects.exists()


# --- The provider chooser -------------------------------------------------------------------------


def _chooser_names(response) -> list[str]:
    """Names offered in a chooser modal (or its results fragment)."""
    assert response.status_code == 200
    if response["Content-Type"].startswith("application/json"):
        html = json.loads(response.content)["html"]
    else:
        html = response.content.decode()
    choices = re.findall(r"<a data-chooser-modal-choice[^>]*>\s*(.*?)\s*</a>", html, re.S)
    return sorted(unescape(c) for c in choices)


def test_chooser_without_organization_offers_what_managed_organizations_may_use(
    client_alice, providers
):
    names = _chooser_names(client_alice.get(chooser_url(LtiProvider)))
    assert names == ["Engineering tool", "Shared tool"]


def test_chooser_with_the_links_organization(client_alice, orgs, providers):
    query = f"organization={orgs['sales'].pk}"
    assert _chooser_names(client_alice.get(chooser_url(LtiProvider, query=query))) == [
        "Shared tool"
    ]
    query = f"organization={orgs['platform'].pk}"
    names = _chooser_names(client_alice.get(chooser_url(LtiProvider, query=query)))
    assert sorted(names) == ["Engineering tool", "Shared tool"]
    # The organization parameter is kept for searching and paging (results URL).
    response = client_alice.get(chooser_url(LtiProvider, query=query))
    assert f"results/?organization={orgs['platform'].pk}" in json.loads(response.content)["html"]


def test_chooser_results_search_is_scoped(client_alice, orgs, providers):
    response = client_alice.get(chooser_url(LtiProvider, "choose_results", query="q=tool"))
    assert sorted(_chooser_names(response)) == ["Engineering tool", "Shared tool"]
    query = f"q=tool&organization={orgs['sales'].pk}"
    response = client_alice.get(chooser_url(LtiProvider, "choose_results", query=query))
    assert _chooser_names(response) == ["Shared tool"]


def test_chooser_for_an_organization_not_managed_offers_nothing(client_alice, orgs, providers):
    query = f"organization={orgs['partner'].pk}"
    assert _chooser_names(client_alice.get(chooser_url(LtiProvider, query=query))) == []
    response = client_alice.get(chooser_url(LtiProvider, query="organization=banana"))
    assert response.status_code == 404


def test_chosen_view_is_scoped(client_alice, providers):
    ok = client_alice.get(chooser_url(LtiProvider, "chosen", providers["shared"].pk))
    assert ok.status_code == 200
    assert json.loads(ok.content)["result"]["string"] == "Shared tool"
    refused = client_alice.get(chooser_url(LtiProvider, "chosen", providers["private"].pk))
    assert refused.status_code == 404


def test_resource_link_chooser_is_scoped(client_alice, orgs, providers):
    """The link chooser (used by course pages' activity blocks) follows the same rules."""
    make_link(providers["eng"], organization=orgs["engineering"], name="Engineering quiz")
    make_link(providers["private"], organization=orgs["partner"], name="Partner quiz")
    make_link(
        providers["shared"],
        organization=orgs["partner"],
        name="Shared quiz",
        available_to=[orgs["sales"]],
    )
    response = client_alice.get(chooser_url(LtiResourceLink))
    html = json.loads(response.content)["html"]
    assert "Engineering quiz" in html and "Shared quiz" in html
    assert "Partner quiz" not in html
    response = client_alice.get(
        chooser_url(LtiResourceLink, query=f"organization={orgs['sales'].pk}")
    )
    html = json.loads(response.content)["html"]
    assert "Shared quiz" in html and "Engineering quiz" not in html


def test_listing_columns_and_filters(client_alice, orgs, providers):
    from wagtail_lti.models import Placement

    lti13 = make_provider(orgs["sales"], name="Advantage", version="1.3")
    quiz = make_link(
        providers["eng"],
        organization=orgs["engineering"],
        name="Quiz",
        available_to=[orgs["platform"]],
    )
    make_link(lti13, organization=orgs["sales"], name="Lab")
    from wagtail.models import Page

    home = Page.objects.get(depth=2)
    Placement.objects.create(page=home, block_id="b1", resource_link=quiz)
    Placement.objects.create(page=home, block_id="b2", resource_link=quiz)

    def rows(query=""):
        response = client_alice.get(url(LtiResourceLink, "list", query=query))
        assert response.status_code == 200
        return {link.name: link for link in response.context["object_list"]}

    assert set(rows()) == {"Quiz", "Lab"}
    assert set(rows("q=qu")) == {"Quiz"}
    assert set(rows("lti_version=1.3")) == {"Lab"}
    assert set(rows(f"organization={orgs['sales'].pk}")) == {"Lab"}
    quiz_row = rows()["Quiz"]
    assert (quiz_row.available_count, quiz_row.page_count) == (1, 1)
    page = text(client_alice.get(url(LtiResourceLink, "list")))
    for heading in ("LTI provider", "LTI version", "Used on (pages)", "Create LTI Resource Link"):
        assert heading in page
