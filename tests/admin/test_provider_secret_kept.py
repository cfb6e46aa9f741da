"""The provider form keeps a typed secret across another field's validation error, without ever
writing it into the page: the page carries it encrypted for the editor who typed it
(``security/encryption.py: seal_typed_secret``, ``forms.py: SecretInput``)."""

from __future__ import annotations

import pytest

from tests.support.admin import field_errors, provider_post, text, url
from tests.support.factories import make_provider
from tests.support.forms import input_value
from wagtail_lti.models import LtiProvider
from wagtail_lti.security import encryption


pytestmark = pytest.mark.django_db

TYPED = "typed & <secret> 42"
KEPT = "secret-kept"
BAD_PARAMETERS = "not a parameter line"


@pytest.fixture
def alice(orgs, make_editor):
    return make_editor("alice", orgs["engineering"])


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


# --- The rule: sealed for one editor, for a while -------------------------------------------------


def test_sealed_secret_opens_only_for_the_editor_who_typed_it():
    token = encryption.seal_typed_secret(TYPED, 7)
    assert TYPED not in token and "secret" not in token
    assert encryption.open_typed_secret(token, 7) == TYPED
    assert encryption.open_typed_secret(token, 8) == ""
    assert encryption.seal_typed_secret("", 7) == ""


@pytest.mark.parametrize("token", ["", "garbage", "gAAAAA" + "x" * 80])
def test_bad_tokens_open_to_nothing(token):
    assert encryption.open_typed_secret(token, 7) == ""


def test_altered_or_old_tokens_open_to_nothing(monkeypatch):
    token = encryption.seal_typed_secret(TYPED, 7)
    assert encryption.open_typed_secret(token[:-4] + "AAAA", 7) == ""
    monkeypatch.setattr(encryption, "TYPED_SECRET_MAX_AGE", -10)
    assert encryption.open_typed_secret(token, 7) == ""


def test_tokens_are_not_secrets_at_rest():
    """Another key: a token in a page cannot be stored as, or read as, a provider's secret."""
    token = encryption.seal_typed_secret(TYPED, 7)
    with pytest.raises(encryption.DecryptionError):
        encryption.decrypt(token)


# --- The door: the admin form ---------------------------------------------------------------------


def test_new_provider_keeps_the_typed_secret_after_another_fields_error(client_alice, orgs):
    add = url(LtiProvider, "add")
    data = provider_post(orgs["engineering"], secret=TYPED, custom_parameters=BAD_PARAMETERS)

    response = client_alice.post(add, data)

    page = text(response)
    assert response.status_code == 200
    assert field_errors(response, "custom_parameters")
    assert not field_errors(response, "secret")
    assert TYPED not in page and "typed &amp; &lt;secret&gt;" not in page
    assert "The secret you typed is kept" in page
    assert not LtiProvider.objects.exists()
    token = input_value(response, KEPT)

    # The editor fixes the other field and saves without typing the secret again.
    data = provider_post(orgs["engineering"], secret="", **{KEPT: token})
    response = client_alice.post(add, data)
    assert response.status_code == 302, text(response)
    assert LtiProvider.objects.get().secret == TYPED


def test_a_second_error_keeps_it_again(client_alice, orgs):
    add = url(LtiProvider, "add")
    first = client_alice.post(
        add, provider_post(orgs["engineering"], secret=TYPED, custom_parameters=BAD_PARAMETERS)
    )
    data = provider_post(
        orgs["engineering"], consumer_key="", secret="", **{KEPT: input_value(first, KEPT)}
    )
    second = client_alice.post(add, data)
    assert field_errors(second, "consumer_key") and not field_errors(second, "secret")
    data = provider_post(orgs["engineering"], secret="", **{KEPT: input_value(second, KEPT)})
    assert client_alice.post(add, data).status_code == 302
    assert LtiProvider.objects.get().secret == TYPED


def test_a_new_secret_typed_on_edit_is_kept_not_the_old_one(client_alice, orgs):
    provider = make_provider(orgs["engineering"], secret="old secret")
    edit = url(LtiProvider, "edit", provider.pk)
    response = client_alice.post(
        edit, provider_post(orgs["engineering"], secret=TYPED, custom_parameters=BAD_PARAMETERS)
    )
    assert response.status_code == 200 and TYPED not in text(response)
    data = provider_post(orgs["engineering"], secret="", **{KEPT: input_value(response, KEPT)})
    assert client_alice.post(edit, data).status_code == 302
    provider.refresh_from_db()
    assert provider.secret == TYPED


def test_typing_again_wins_over_the_kept_secret(client_alice, orgs):
    add = url(LtiProvider, "add")
    first = client_alice.post(
        add, provider_post(orgs["engineering"], secret=TYPED, custom_parameters=BAD_PARAMETERS)
    )
    data = provider_post(orgs["engineering"], secret="retyped", **{KEPT: input_value(first, KEPT)})
    assert client_alice.post(add, data).status_code == 302
    assert LtiProvider.objects.get().secret == "retyped"


def test_another_editors_token_keeps_nothing(client, orgs, make_editor, client_alice):
    add = url(LtiProvider, "add")
    first = client_alice.post(
        add, provider_post(orgs["engineering"], secret=TYPED, custom_parameters=BAD_PARAMETERS)
    )
    token = input_value(first, KEPT)
    client.force_login(make_editor("bob", orgs["engineering"]))
    response = client.post(add, provider_post(orgs["engineering"], secret="", **{KEPT: token}))
    assert response.status_code == 200
    assert field_errors(response, "secret")
    assert not LtiProvider.objects.exists()


@pytest.mark.parametrize("token", ["garbage", "gAAAAA" + "x" * 80])
def test_a_forged_token_is_no_secret(client_alice, orgs, token):
    response = client_alice.post(
        url(LtiProvider, "add"), provider_post(orgs["engineering"], secret="", **{KEPT: token})
    )
    assert response.status_code == 200
    assert field_errors(response, "secret")
    assert not LtiProvider.objects.exists()


def test_a_form_without_errors_keeps_nothing_in_the_page(client_alice, orgs):
    response = client_alice.get(url(LtiProvider, "add"))
    assert KEPT not in text(response)
