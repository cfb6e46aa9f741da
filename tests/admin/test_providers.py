"""The LTI Provider snippet: form, write-only secret, LTI 1.3 registration, bad input."""

from __future__ import annotations

import csv
import io
import logging

import pytest
from django.test import Client, override_settings
from django.views.debug import ExceptionReporter

from tests.support.admin import (
    ec_public_pem,
    field_errors,
    lti13_post,
    provider_post,
    rsa_private_pem,
    rsa_public_pem,
    text,
    url,
)
from tests.support.factories import make_provider
from wagtail_lti.models import LtiProvider


pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(orgs, make_editor):
    """Manages Engineering (and so the Platform team)."""
    return make_editor("alice", orgs["engineering"])


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


# --- Creating a provider, as the guide's steps do ----------------------------------------------


def test_create_form_defaults_to_first_managed_organization(client_alice, orgs):
    response = client_alice.get(url(LtiProvider, "add"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["organization"] == orgs["engineering"].pk
    # Only managed organizations can be chosen, on both tabs.
    assert set(form.fields["organization"].queryset) == {orgs["engineering"], orgs["platform"]}
    assert set(form.fields["available_to"].queryset) == {
        orgs["acme"],
        orgs["engineering"],
        orgs["platform"],
        orgs["sales"],
    }
    html = response.content.decode()
    assert "Add Organizations" in html
    assert "Choose another organization" in html  # the Organization chooser widget


def test_create_lti11_provider(client_alice, orgs):
    data = provider_post(
        orgs["engineering"],
        secret="tool-shared-secret",
        custom_parameters="custom_value_1=some value with = and spaces\n\ncustom_course=law",
        available_to=[orgs["platform"]],
    )
    response = client_alice.post(url(LtiProvider, "add"), data)
    assert response.status_code == 302, field_errors(response, "__all__")
    provider = LtiProvider.objects.get()
    assert provider.organization == orgs["engineering"]
    assert provider.consumer_key == "moodle-key"
    assert provider.secret == "tool-shared-secret"
    assert "tool-shared-secret" not in provider.secret_encrypted
    assert list(provider.available_to.all()) == [orgs["platform"]]
    assert provider.custom_parameters.startswith("custom_value_1=some value with = and spaces")
    assert provider.send_name and not provider.send_email
    # The revision was saved with the availability (ParentalManyToManyField).
    assert provider.latest_revision.content["available_to"] == [orgs["platform"].pk]


def test_lti11_needs_key_and_secret(client_alice, orgs):
    response = client_alice.post(
        url(LtiProvider, "add"), provider_post(orgs["engineering"], consumer_key="", secret="")
    )
    assert response.status_code == 200
    assert field_errors(response, "consumer_key") == ["Enter the tool's LTI key (its client key)."]
    assert field_errors(response, "secret") == ["Enter the tool's LTI secret (its client secret)."]
    assert not LtiProvider.objects.exists()


# --- The secret is write-only -------------------------------------------------------------------


SECRET = "Sup3r-S3cret-Value-9f8e7d"


@pytest.fixture
def provider_with_secret(orgs, client_alice):
    response = client_alice.post(
        url(LtiProvider, "add"), provider_post(orgs["engineering"], name="Secretive", secret=SECRET)
    )
    assert response.status_code == 302
    return LtiProvider.objects.get(name="Secretive")


def test_edit_form_never_shows_the_secret(client_alice, provider_with_secret):
    response = client_alice.get(url(LtiProvider, "edit", provider_with_secret.pk))
    html = response.content.decode()
    assert SECRET not in html
    assert provider_with_secret.secret_encrypted not in html
    assert "A secret is set (it is never shown). Leave blank to keep it" in text(response)
    assert 'type="password"' in html


def test_blank_secret_keeps_it_and_a_new_one_replaces_it(client_alice, orgs, provider_with_secret):
    edit = url(LtiProvider, "edit", provider_with_secret.pk)
    response = client_alice.post(
        edit, provider_post(orgs["engineering"], name="Renamed", secret="")
    )
    assert response.status_code == 302
    provider_with_secret.refresh_from_db()
    assert provider_with_secret.name == "Renamed"
    assert provider_with_secret.secret == SECRET
    response = client_alice.post(edit, provider_post(orgs["engineering"], secret="replacement"))
    assert response.status_code == 302
    provider_with_secret.refresh_from_db()
    assert provider_with_secret.secret == "replacement"


def test_secret_not_in_listing_or_exports(client_alice, provider_with_secret):
    for query in ("", "export=csv", "export=xlsx"):
        response = client_alice.get(url(LtiProvider, "list", query=query))
        assert response.status_code == 200
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert SECRET.encode() not in body
        assert provider_with_secret.secret_encrypted.encode() not in body
    response = client_alice.get(url(LtiProvider, "list", query="export=csv"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "Name",
        "Organization",
        "LTI version",
        "LTI key",
        "Client ID",
        "Deployment ID",
        "Available to (organizations)",
        "Used by (resource links)",
    ]
    assert rows[1][:4] == ["Secretive", "Engineering", "1.1", "moodle-key"]


def test_secret_not_in_history_or_revision_comparison(client_alice, orgs, provider_with_secret):
    edit = url(LtiProvider, "edit", provider_with_secret.pk)
    client_alice.post(
        edit, provider_post(orgs["engineering"], name="Secretive 2", secret="second-" + SECRET)
    )
    provider_with_secret.refresh_from_db()
    first, second = provider_with_secret.revisions.order_by("pk")
    # Revisions never store the secret (not even encrypted): nothing to show or to revert to.
    assert "secret_encrypted" not in first.content and "secret_encrypted" not in second.content
    compare = url(
        LtiProvider, "revisions_compare", provider_with_secret.pk, str(first.pk), str(second.pk)
    )
    for page in (compare, url(LtiProvider, "history", provider_with_secret.pk)):
        response = client_alice.get(page)
        assert response.status_code == 200
        html = response.content.decode()
        assert SECRET not in html
        assert provider_with_secret.secret_encrypted not in html
    assert "Secretive 2" in client_alice.get(compare).content.decode()  # the diff works


def test_secret_not_in_error_reports(alice, orgs, provider_with_secret, monkeypatch, caplog):
    """A crash while saving: the error report (the one mailed to ADMINS, with POST data and each
    frame's local variables) shows the secret as stars."""

    def explode(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(LtiProvider, "save", explode)
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    typed = "typed-before-the-crash-" + SECRET
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.post(
            url(LtiProvider, "edit", provider_with_secret.pk),
            provider_post(orgs["engineering"], secret=typed),
        )
    assert response.status_code == 500
    assert SECRET not in response.content.decode()
    (record,) = [r for r in caplog.records if r.exc_info]
    report = ExceptionReporter(record.request, *record.exc_info, is_email=True).get_traceback_html()
    assert "database went away" in report
    assert "secret" in report  # the POST parameter is listed...
    assert SECRET not in report  # ...but its value is not
    assert SECRET not in record.getMessage()


# --- Custom parameters --------------------------------------------------------------------------


def test_custom_parameters_each_bad_line_reported(client_alice, orgs):
    data = provider_post(
        orgs["engineering"],
        secret="x",
        custom_parameters="custom_ok=1\nno equals sign\nCustomBad=2\n\ncustom_ok=3\nnot_custom=4",
    )
    response = client_alice.post(url(LtiProvider, "add"), data)
    assert response.status_code == 200
    errors = field_errors(response, "custom_parameters")
    assert [e.split(":")[0] for e in errors] == ["Line 2", "Line 3", "Line 5", "Line 6"]
    assert "has no “=”" in errors[0]
    assert "must start with “custom_” and be in snake case" in errors[1]
    assert "given more than once" in errors[2]
    page = text(response)
    assert "Line 2:" in page and "Line 6:" in page
    assert not LtiProvider.objects.exists()


# --- Organizations: only managed ones ------------------------------------------------------------


def test_post_with_an_organization_not_managed_is_refused(client_alice, orgs):
    response = client_alice.post(url(LtiProvider, "add"), provider_post(orgs["sales"], secret="x"))
    assert response.status_code == 200
    assert field_errors(response, "organization") == [
        "Choose an organization you manage: you may not assign records to this one."
    ]
    assert not LtiProvider.objects.exists()


def test_moving_a_provider_to_another_editors_organization_is_refused(client_alice, orgs, alice):
    provider = make_provider(orgs["engineering"], name="Mine")
    response = client_alice.post(
        url(LtiProvider, "edit", provider.pk), provider_post(orgs["partner"], name="Mine")
    )
    assert response.status_code == 200
    assert field_errors(response, "organization")
    provider.refresh_from_db()
    assert provider.organization == orgs["engineering"]


def test_availability_only_shareable_organizations(client_alice, orgs):
    response = client_alice.post(
        url(LtiProvider, "add"),
        provider_post(
            orgs["engineering"], secret="x", available_to=[orgs["platform"], orgs["partner"]]
        ),
    )
    assert response.status_code == 200
    assert field_errors(response, "available_to") == [
        "You can only make records available to organizations you manage or to the other "
        "organizations of your top-level organization; one of the organizations sent is not "
        "one of them."
    ]
    assert not LtiProvider.objects.exists()


def test_availability_set_by_others_is_kept(client_alice, orgs):
    """An editor's save keeps organizations they do not manage on the Availability tab."""
    provider = make_provider(orgs["engineering"], name="Shared", available_to=[orgs["partner"]])
    response = client_alice.get(url(LtiProvider, "edit", provider.pk))
    assert "Also available to these organizations, which you cannot offer it to" in text(response)
    assert "Partner Co" in text(response)
    response = client_alice.post(
        url(LtiProvider, "edit", provider.pk),
        provider_post(orgs["engineering"], name="Shared", available_to=[orgs["platform"]]),
    )
    assert response.status_code == 302
    assert set(provider.available_to.all()) == {orgs["partner"], orgs["platform"]}


# --- LTI 1.3 --------------------------------------------------------------------------------------


def test_lti13_provider_with_jwks_url(client_alice, orgs):
    response = client_alice.post(
        url(LtiProvider, "add"),
        lti13_post(
            orgs["engineering"],
            redirect_uris="https://tool.example.com/launch\n\n https://tool.example.com/deep ",
        ),
    )
    assert response.status_code == 302
    provider = LtiProvider.objects.get()
    assert provider.is_lti13 and provider.jwks_url == "https://tool.example.com/jwks"
    assert provider.get_redirect_uris() == [
        "https://tool.example.com/launch",
        "https://tool.example.com/deep",
    ]
    assert provider.client_id and provider.deployment_id
    assert provider.allow_ags and not provider.allow_nrps


def test_lti13_blank_redirect_uris_default_to_launch_url(client_alice, orgs):
    client_alice.post(url(LtiProvider, "add"), lti13_post(orgs["engineering"]))
    assert LtiProvider.objects.get().get_redirect_uris() == ["https://tool.example.com/launch"]


def test_lti13_with_a_pem_public_key(client_alice, orgs):
    pem = rsa_public_pem()
    response = client_alice.post(
        url(LtiProvider, "add"), lti13_post(orgs["engineering"], jwks_url="", public_key_pem=pem)
    )
    assert response.status_code == 302
    assert LtiProvider.objects.get().public_key_pem.strip() == pem.strip()


def test_lti13_without_any_public_key_is_refused(client_alice, orgs):
    response = client_alice.post(
        url(LtiProvider, "add"), lti13_post(orgs["engineering"], jwks_url="", public_key_pem="")
    )
    assert response.status_code == 200
    assert field_errors(response, "jwks_url") == [
        "An LTI 1.3 tool needs a public key: enter its public keyset (JWKS) URL here, or paste "
        "its public key (PEM) below."
    ]
    assert not LtiProvider.objects.exists()


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        ("hello, I am not a key", "This is not a PEM public key."),
        (
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "This is not a PEM public key.",
        ),
        (ec_public_pem(), "the tool's public key must be an RSA key"),
        (rsa_public_pem(1024), "too short"),
    ],
)
def test_lti13_pem_that_is_not_a_usable_public_key(client_alice, orgs, pem, message):
    response = client_alice.post(
        url(LtiProvider, "add"), lti13_post(orgs["engineering"], jwks_url="", public_key_pem=pem)
    )
    assert response.status_code == 200
    (error,) = field_errors(response, "public_key_pem")
    assert message in error
    assert not LtiProvider.objects.exists()


def test_lti13_private_key_refused_and_not_sent_back(client_alice, orgs):
    private = rsa_private_pem()
    response = client_alice.post(
        url(LtiProvider, "add"),
        lti13_post(orgs["engineering"], jwks_url="", public_key_pem=private),
    )
    assert response.status_code == 200
    (error,) = field_errors(response, "public_key_pem")
    assert error.startswith("This is a private key.")
    body = response.content.decode()
    assert private.splitlines()[1] not in body
    assert not LtiProvider.objects.exists()


def test_lti13_urls_must_be_http(client_alice, orgs):
    response = client_alice.post(
        url(LtiProvider, "add"),
        lti13_post(
            orgs["engineering"],
            login_url="javascript:alert(1)",
            launch_url="",
            redirect_uris="https://ok.example.com/\nftp://files.example.com/x",
        ),
    )
    assert response.status_code == 200
    assert "“javascript:” addresses are not allowed" in field_errors(response, "login_url")[0]
    assert field_errors(response, "launch_url") == ["Enter the tool's target link (launch) URL."]
    assert field_errors(response, "redirect_uris")[0].startswith(
        "Line 2: Enter an absolute web address"
    )
    assert not LtiProvider.objects.exists()


@override_settings(WAGTAIL_LTI={"ISSUER": "https://lms.example.edu"})
def test_platform_details_shown_with_copy_buttons(client_alice, orgs):
    provider = make_provider(orgs["engineering"], name="Advantage", version="1.3")
    response = client_alice.get(url(LtiProvider, "edit", provider.pk))
    html = response.content.decode()
    for value in (
        provider.client_id,
        provider.deployment_id,
        "https://lms.example.edu",
        "https://lms.example.edu/lti/1.3/authorize/",
        "https://lms.example.edu/lti/1.3/token/",
        "https://lms.example.edu/lti/1.3/jwks/",
    ):
        assert f'value="{value}"' in html
    assert html.count('data-action="w-clipboard#copy"') == 6
    assert 'Copy<span class="w-sr-only"> Client ID</span>' in html


def test_platform_details_use_the_request_root_without_issuer(client_alice):
    response = client_alice.get(url(LtiProvider, "add"))
    html = response.content.decode()
    assert 'value="http://testserver/lti/1.3/token/"' in html
    assert "Issued by the platform when you save this provider." in html


# --- Listing --------------------------------------------------------------------------------------


def test_listing_search_filters_and_columns(client_alice, orgs):
    moodle = make_provider(orgs["engineering"], name="Moodle", available_to=[orgs["platform"]])
    make_provider(orgs["platform"], name="Canvas", version="1.3")
    make_provider(orgs["sales"], name="Hidden from Alice")
    from tests.support.factories import make_link

    make_link(moodle, organization=orgs["engineering"], name="Quiz")

    def names(query=""):
        response = client_alice.get(url(LtiProvider, "list", query=query))
        assert response.status_code == 200
        return [str(p) for p in response.context["object_list"]]

    assert names() == ["Canvas", "Moodle"]
    assert names("q=moo") == ["Moodle"]
    assert names("lti_version=1.3") == ["Canvas"]
    assert names(f"organization={orgs['platform'].pk}") == ["Canvas"]
    assert names(f"organization={orgs['engineering'].pk}") == ["Canvas", "Moodle"]  # subtree
    # Filtering by an organization Alice does not manage is not offered (invalid filter).
    response = client_alice.get(url(LtiProvider, "list", query=f"organization={orgs['sales'].pk}"))
    assert "Hidden from Alice" not in response.content.decode()

    response = client_alice.get(url(LtiProvider, "list"))
    row = next(p for p in response.context["object_list"] if p.name == "Moodle")
    assert (row.available_count, row.link_count) == (1, 1)
    page = text(response)
    for heading in (
        "Organization",
        "LTI version",
        "Available to (organizations)",
        "Used by (resource links)",
    ):
        assert heading in page
    assert "Create LTI Provider" in page
