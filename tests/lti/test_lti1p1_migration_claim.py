"""The rule of the ``lti1p1`` claim (``wagtail_lti.lti.migration``, ``lti.lti13``) and of a
provider moved from LTI 1.1 (``LtiProvider.moved_from_lti11``).

LTI 1.3 Core, "LTI 1.1 migration claim" (https://www.imsglobal.org/spec/lti/v1p3/migr): the
claim carries the LTI 1.1 ``oauth_consumer_key`` and ``oauth_consumer_key_sign``, the HMAC-SHA256
(LTI 1.1 secret) of ``oauth_consumer_key & deployment_id & iss & client_id & exp & nonce``,
base64; and the LTI 1.1 ``user_id``, ``context_id``, ``resource_link_id``,
``tool_consumer_instance_guid``. Checked with the tool's verifier in ``tests.support.migration``.
"""

from __future__ import annotations

import pytest

from tests.support.factories import make_provider
from tests.support.migration import LTI1P1, tool_verifies_lti1p1
from wagtail_lti.lti.context import LaunchContext, LaunchUser, PlatformInfo
from wagtail_lti.lti.lti13 import build_id_token_claims
from wagtail_lti.lti.migration import (
    Lti11Credentials,
    add_lti1p1_claim,
    consumer_key_sign_base,
    oauth_consumer_key_sign,
)


CREDENTIALS = Lti11Credentials(consumer_key="179248902", secret="my-lti11-secret")


def test_the_spec_example_gives_the_spec_signature():
    """The migration section's worked example: its base string and its signature, exactly."""
    base = consumer_key_sign_base(
        oauth_consumer_key="179248902",
        deployment_id="689302",
        iss="https://lmsvendor.com",
        client_id="PM48OJSfGDTAzAo",
        exp=1551290856,
        nonce="172we8671fd8z",
    )
    assert base == "179248902&689302&https://lmsvendor.com&PM48OJSfGDTAzAo&1551290856&172we8671fd8z"
    assert oauth_consumer_key_sign(base, "my-lti11-secret") == (
        "lWd54kFo5qU7xshAna6v8BwoBm6tmUjc6GTax6+12ps="
    )


def test_the_spec_example_token_verifies_with_the_tools_check():
    claims = {
        "nonce": "172we8671fd8z",
        "iat": 1551290796,
        "exp": 1551290856,
        "iss": "https://lmsvendor.com",
        "aud": "PM48OJSfGDTAzAo",
        "sub": "3",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "689302",
    }
    signed = add_lti1p1_claim(claims, CREDENTIALS, user_id="34212")
    assert signed[LTI1P1] == {
        "user_id": "34212",
        "oauth_consumer_key": "179248902",
        "oauth_consumer_key_sign": "lWd54kFo5qU7xshAna6v8BwoBm6tmUjc6GTax6+12ps=",
    }
    assert tool_verifies_lti1p1(signed, lti11_keys={"179248902": "my-lti11-secret"})


def _ctx(**overrides) -> LaunchContext:
    values = {
        "user": LaunchUser(id="0123456789abcdef0123456789abcdef"),
        "roles": ("Learner",),
        "context_id": "ctx-42",
        "context_title": "Safety",
        "context_label": "SAF",
        "resource_link_id": "rl-7",
        "resource_link_title": "Quiz",
        "resource_link_description": "",
        "target_url": "https://tool.example/launch",
        "platform": PlatformInfo(guid="platform.example", name="Platform"),
    }
    values.update(overrides)
    return LaunchContext(**values)


def _claims(ctx=None, *, lti1p1=CREDENTIALS, message_type="LtiResourceLinkRequest", nonce="n-1"):
    return build_id_token_claims(
        ctx or _ctx(),
        issuer="https://platform.example",
        client_id="client-1",
        deployment_id="dep-1",
        nonce=nonce,
        message_type=message_type,
        lti1p1=lti1p1,
        now=1_700_000_000,
        ttl=300,
        iat_backdate=5,
    )


def test_a_launch_carries_the_lti11_ids_and_a_signature_over_its_own_values():
    claims = _claims()
    assert claims[LTI1P1] == {
        "user_id": "0123456789abcdef0123456789abcdef",
        "context_id": "ctx-42",
        "resource_link_id": "rl-7",
        "tool_consumer_instance_guid": "platform.example",
        "oauth_consumer_key": "179248902",
        "oauth_consumer_key_sign": claims[LTI1P1]["oauth_consumer_key_sign"],
    }
    # The same ids as the LTI 1.3 claims of the same launch.
    assert claims[LTI1P1]["user_id"] == claims["sub"]
    assert (
        claims[LTI1P1]["resource_link_id"]
        == claims["https://purl.imsglobal.org/spec/lti/claim/resource_link"]["id"]
    )
    assert tool_verifies_lti1p1(claims, lti11_keys={"179248902": "my-lti11-secret"})
    # The older claim of the LTI 1.1 user id, still read first by many tools.
    legacy = "https://purl.imsglobal.org/spec/lti/claim/lti11_legacy_user_id"
    assert claims[legacy] == claims[LTI1P1]["user_id"]


@pytest.mark.parametrize("name, value", [("nonce", "another"), ("exp", 1), ("iss", "https://x")])
def test_the_signature_is_bound_to_the_tokens_own_values(name, value):
    """instructure/canvas-lms#2287: a signature over a nonce not in the token cannot verify."""
    claims = _claims()
    claims[name] = value
    assert not tool_verifies_lti1p1(claims, lti11_keys={"179248902": "my-lti11-secret"})


def test_a_wrong_secret_or_unknown_key_does_not_verify():
    claims = _claims()
    assert not tool_verifies_lti1p1(claims, lti11_keys={"179248902": "another-secret"})
    assert not tool_verifies_lti1p1(claims, lti11_keys={"other-key": "my-lti11-secret"})


def test_a_deep_linking_request_carries_the_claim_without_a_resource_link():
    claims = _claims(_ctx(context_id="", resource_link_id=""), message_type="LtiDeepLinkingRequest")
    assert "resource_link_id" not in claims[LTI1P1] and "context_id" not in claims[LTI1P1]
    assert claims[LTI1P1]["user_id"] == claims["sub"]
    assert tool_verifies_lti1p1(claims, lti11_keys={"179248902": "my-lti11-secret"})


def test_no_credentials_no_claim_and_the_secret_is_never_shown():
    unmoved = _claims(lti1p1=None)
    assert LTI1P1 not in unmoved
    assert "https://purl.imsglobal.org/spec/lti/claim/lti11_legacy_user_id" not in unmoved
    assert "my-lti11-secret" not in repr(CREDENTIALS)
    with pytest.raises(ValueError):
        add_lti1p1_claim({}, Lti11Credentials(consumer_key="k", secret=""))


@pytest.mark.django_db
def test_moved_from_lti11_is_an_lti13_provider_that_kept_its_lti11_key_and_secret(orgs):
    lti11 = make_provider(orgs["acme"], name="Old", key="k1", secret="s1")
    assert not lti11.moved_from_lti11 and lti11.lti11_credentials() is None
    lti11.lti_version = "1.3"
    lti11.save()
    assert lti11.moved_from_lti11
    assert lti11.lti11_credentials() == Lti11Credentials(consumer_key="k1", secret="s1")
    no_secret = make_provider(orgs["acme"], name="No secret", version="1.3", key="k2", secret=None)
    assert not no_secret.moved_from_lti11
    fresh = make_provider(orgs["acme"], name="Fresh", version="1.3", key="", secret=None)
    assert not fresh.moved_from_lti11 and fresh.lti11_credentials() is None
