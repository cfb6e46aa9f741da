"""The pure LTI 1.3 core: login initiation, authorization request validation, id_token claims.

The whole flow, with PyLTI1p3 as the tool, is in ``tests/launch/test_lti13_launch.py``; these
tests pin each rule on its own.
"""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wagtail_lti.lti import oidc
from wagtail_lti.lti.context import LaunchContext, LaunchUser, PlatformInfo
from wagtail_lti.lti.lti13 import (
    AGS_ENDPOINT_CLAIM,
    AGS_LAUNCH_SCOPES,
    LTI_CLAIM,
    build_id_token_claims,
    context_from_data,
    context_to_data,
    sign_id_token,
    strip_whitespace,
)


REDIRECT = "https://tool.example/launch"
CLIENT = "client-123"


def good_params(**overrides):
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": CLIENT,
        "redirect_uri": REDIRECT,
        "login_hint": "user-opaque",
        "lti_message_hint": "hint-abc",
        "nonce": "nonce-1",
        "state": "state-1",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def validate(params, registered=(REDIRECT,)):
    return oidc.validate_authorization_request(
        params, registered_redirect_uris=list(registered) if registered is not None else None
    )


# --- Login initiation (LTI Core 1.3 §4.1.1) -----------------------------------------------------


def test_login_initiation_params_has_every_field():
    params = oidc.login_initiation_params(
        issuer="https://platform.example",
        login_hint="u1",
        target_link_uri="https://tool.example/activity",
        lti_message_hint="h",
        client_id="c",
        deployment_id="d",
    )
    assert params == {
        "iss": "https://platform.example",
        "login_hint": "u1",
        "target_link_uri": "https://tool.example/activity",
        "lti_message_hint": "h",
        "client_id": "c",
        # Pitfall 7: lti_deployment_id, never "deployment_id".
        "lti_deployment_id": "d",
    }


def test_login_initiation_refuses_an_empty_value():
    with pytest.raises(ValueError, match="target_link_uri"):
        oidc.login_initiation_params(
            issuer="https://p",
            login_hint="u",
            target_link_uri="",
            lti_message_hint="h",
            client_id="c",
            deployment_id="d",
        )


# --- Authorization request (OIDC Core §3.1.2.1, §3.1.2.6; checklist §2) -------------------------


def test_a_good_request_is_accepted():
    auth = validate(good_params())
    assert auth.nonce == "nonce-1" and auth.state == "state-1" and auth.redirect_uri == REDIRECT


def test_prompt_may_be_absent():
    assert validate(good_params(prompt=None)).prompt == ""


def test_scope_may_hold_more_than_openid():
    assert validate(good_params(scope="openid profile")).scope == "openid profile"


@pytest.mark.parametrize(
    "overrides, error_class, code",
    [
        ({"scope": None}, oidc.InvalidScope, "invalid_scope"),
        ({"scope": "profile"}, oidc.InvalidScope, "invalid_scope"),
        ({"scope": "openidx"}, oidc.InvalidScope, "invalid_scope"),
        ({"response_type": None}, oidc.UnsupportedResponseType, "unsupported_response_type"),
        ({"response_type": "code"}, oidc.UnsupportedResponseType, "unsupported_response_type"),
        ({"response_mode": None}, oidc.InvalidRequest, "invalid_request"),
        ({"response_mode": "query"}, oidc.InvalidRequest, "invalid_request"),
        ({"prompt": "login"}, oidc.InvalidRequest, "invalid_request"),
        ({"login_hint": None}, oidc.InvalidRequest, "invalid_request"),
        ({"lti_message_hint": None}, oidc.InvalidMessageHint, "invalid_request"),
        ({"nonce": None}, oidc.InvalidRequest, "invalid_request"),
        ({"nonce": ""}, oidc.InvalidRequest, "invalid_request"),
        ({"state": "s" * 5000}, oidc.InvalidRequest, "invalid_request"),
    ],
)
def test_each_field_is_checked_and_the_error_may_be_redirected(overrides, error_class, code):
    with pytest.raises(error_class) as info:
        validate(good_params(**overrides))
    assert info.value.error == code
    assert info.value.redirectable is True
    assert info.value.description


@pytest.mark.parametrize(
    "overrides, registered, code",
    [
        ({"client_id": None}, None, "invalid_request"),
        ({}, None, "unauthorized_client"),  # client_id not known
        ({"redirect_uri": None}, (REDIRECT,), "invalid_request"),
        ({"redirect_uri": REDIRECT + "/"}, (REDIRECT,), "invalid_request"),  # pitfall 14
        ({"redirect_uri": "https://tool.example/"}, ("https://tool.example",), "invalid_request"),
        ({"redirect_uri": "https://TOOL.example/launch"}, (REDIRECT,), "invalid_request"),
        ({"redirect_uri": "https://evil.example/launch"}, (REDIRECT,), "invalid_request"),
        ({"redirect_uri": REDIRECT + "?x=1"}, (REDIRECT,), "invalid_request"),
    ],
)
def test_unknown_client_or_unregistered_redirect_uri_is_never_redirected(
    overrides, registered, code
):
    params = good_params(**overrides)
    with pytest.raises(oidc.OidcError) as info:
        validate(params, registered)
    assert info.value.error == code
    assert info.value.redirectable is False
    assert oidc.redirect_target(params, list(registered) if registered else None) is None


def test_client_and_redirect_uri_are_checked_before_the_other_fields():
    """A bad scope with an unregistered redirect_uri must not be posted to that URI."""
    with pytest.raises(oidc.InvalidRedirectUri):
        validate(good_params(scope="profile", redirect_uri="https://evil.example/"))


def test_redirect_target_only_for_a_registered_uri():
    assert oidc.redirect_target(good_params(), [REDIRECT]) == REDIRECT
    assert oidc.redirect_target(good_params(), None) is None


def test_error_response_params_echo_state():
    error = oidc.InvalidScope("The scope parameter must contain “openid”.")
    assert oidc.error_response_params(error, state="s1") == {
        "error": "invalid_scope",
        "error_description": "The scope parameter must contain “openid”.",
        "state": "s1",
    }
    assert "state" not in oidc.error_response_params(error, state="")


# --- Message hint and session user --------------------------------------------------------------


def pending(**overrides):
    values = {
        "user_key": "7",
        "login_hint": "user-opaque",
        "client_id": CLIENT,
        "expires_at": 2000,
        "used": False,
    }
    values.update(overrides)
    return oidc.PendingMessage(**values)


def test_message_hint_checks():
    auth = validate(good_params())
    oidc.check_message_hint(auth, pending(), now=1000)
    for bad, text in [
        (None, "not one this platform issued"),
        (pending(client_id="other"), "another tool"),
        (pending(used=True), "already been used"),
        (pending(expires_at=1000), "expired"),
    ]:
        with pytest.raises(oidc.InvalidMessageHint, match=text) as info:
            oidc.check_message_hint(auth, bad, now=1000)
        assert info.value.redirectable


def test_session_user_checks():
    auth = validate(good_params())
    oidc.check_session_user(auth, pending(), session_user_key="7")
    with pytest.raises(oidc.LoginRequired) as info:
        oidc.check_session_user(auth, pending(), session_user_key=None)
    assert info.value.error == "login_required"
    with pytest.raises(oidc.AccessDenied, match="another user") as info:
        oidc.check_session_user(auth, pending(), session_user_key="8")
    assert info.value.error == "access_denied"
    with pytest.raises(oidc.AccessDenied, match="login_hint"):
        oidc.check_session_user(
            validate(good_params(login_hint="someone-else")), pending(), session_user_key="7"
        )


# --- id_token claims (LTI Core 1.3 §5.3, §5.4) --------------------------------------------------


def make_ctx(**overrides) -> LaunchContext:
    values = {
        "user": LaunchUser(
            id="opaque-user-1",
            username="learner",
            full_name=" Lena Learner ",
            given_name="Lena",
            family_name="Learner",
            email="lena@example.com",
        ),
        "roles": ("Learner",),
        "context_id": "course-1",
        "context_title": "Intro to LTI ",
        "context_label": "LTI-101",
        "resource_link_id": "rl-1",
        "resource_link_title": "  Quiz 1",
        "resource_link_description": "The first quiz\n",
        "target_url": "https://tool.example/quiz/1",
        "platform": PlatformInfo(guid="platform-guid", name="Wagtail LTI", version="0.1.0"),
        "custom": {
            "custom_unit": " 3 ",
            "custom_uid": "$User.id",
            "custom_mail": "$Person.email.primary",
        },
        "return_url": "https://platform.example/return",
        "height": 600,
    }
    values.update(overrides)
    return LaunchContext(**values)


def claims_for(ctx=None, **kwargs):
    options = {
        "issuer": "https://platform.example",
        "client_id": CLIENT,
        "deployment_id": "dep-1",
        "nonce": "n-1",
        "now": 1_700_000_000,
        "ttl": 300,
        "iat_backdate": 5,
    }
    options.update(kwargs)
    return build_id_token_claims(ctx or make_ctx(), **options)


def all_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)


def test_required_claims():
    claims = claims_for()
    assert claims["iss"] == "https://platform.example"
    assert claims["aud"] == CLIENT and claims["azp"] == CLIENT
    assert claims["sub"] == "opaque-user-1"
    assert claims["nonce"] == "n-1"
    assert claims["iat"] == 1_700_000_000 - 5
    assert claims["exp"] - claims["iat"] == 300
    assert claims[LTI_CLAIM + "message_type"] == "LtiResourceLinkRequest"
    assert claims[LTI_CLAIM + "version"] == "1.3.0"
    assert claims[LTI_CLAIM + "deployment_id"] == "dep-1"
    assert claims[LTI_CLAIM + "target_link_uri"] == "https://tool.example/quiz/1"
    assert claims[LTI_CLAIM + "resource_link"] == {
        "id": "rl-1",
        "title": "Quiz 1",
        "description": "The first quiz",
    }
    assert claims[LTI_CLAIM + "roles"] == [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
    ]
    assert claims[LTI_CLAIM + "context"] == {
        "id": "course-1",
        "label": "LTI-101",
        "title": "Intro to LTI",
        "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
    }
    assert claims[LTI_CLAIM + "tool_platform"] == {
        "guid": "platform-guid",
        "name": "Wagtail LTI",
        "product_family_code": "wagtail-lti",
        "version": "0.1.0",
    }
    assert claims[LTI_CLAIM + "launch_presentation"] == {
        "document_target": "iframe",
        "locale": "en-US",
        "return_url": "https://platform.example/return",
        "height": 600,
    }
    assert AGS_ENDPOINT_CLAIM not in claims


def test_no_string_has_outer_whitespace():
    """Conformance Certification Guide §5.1 (pitfall 15)."""
    claims = claims_for()
    for text in all_strings(claims):
        assert text == text.strip(), repr(text)
    assert claims["name"] == "Lena Learner"


def test_custom_claim_is_substituted_and_named_without_prefix():
    claims = claims_for()
    assert claims[LTI_CLAIM + "custom"] == {
        "unit": "3",
        "uid": "opaque-user-1",
        "mail": "lena@example.com",
    }
    assert all(isinstance(v, str) for v in claims[LTI_CLAIM + "custom"].values())


def test_privacy_no_name_or_email_unless_in_the_context():
    ctx = make_ctx(user=LaunchUser(id="opaque-user-1"))
    claims = claims_for(ctx)
    for claim in ("name", "given_name", "family_name", "email"):
        assert claim not in claims
    # A variable without a value is passed through, not emptied (and not leaked).
    assert claims[LTI_CLAIM + "custom"]["mail"] == "$Person.email.primary"


def test_roles_present_even_when_empty_and_instructor_uri():
    assert claims_for(make_ctx(roles=()))[LTI_CLAIM + "roles"] == []
    assert claims_for(make_ctx(roles=("Instructor",)))[LTI_CLAIM + "roles"] == [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
    ]


def test_ags_claim():
    claims = claims_for(
        ags={
            "lineitems": "https://p.example/ags/1/2/lineitems/",
            "lineitem": "https://p.example/ags/1/2/lineitems/9/",
        }
    )
    assert claims[AGS_ENDPOINT_CLAIM] == {
        "scope": list(AGS_LAUNCH_SCOPES),
        "lineitems": "https://p.example/ags/1/2/lineitems/",
        "lineitem": "https://p.example/ags/1/2/lineitems/9/",
    }
    # No line item: only the container (AGS §3.1: lineitem only when exactly one).
    claims = claims_for(ags={"lineitems": "https://p.example/ags/1/2/lineitems/", "lineitem": None})
    assert "lineitem" not in claims[AGS_ENDPOINT_CLAIM]


def test_missing_required_values_are_refused():
    with pytest.raises(ValueError, match="nonce"):
        claims_for(nonce="")
    with pytest.raises(ValueError, match="user id"):
        claims_for(make_ctx(user=LaunchUser(id=" ")))
    with pytest.raises(ValueError, match="message type"):
        claims_for(message_type="LtiFooRequest")


def test_timing_values_are_arguments_not_settings(settings):
    # The protocol core reads no settings: the caller passes the timing values.
    settings.WAGTAIL_LTI = {"LAUNCH_TOKEN_TTL": 120, "IAT_BACKDATE": 3}
    with pytest.raises(TypeError):
        build_id_token_claims(
            make_ctx(), issuer="https://p", client_id="c", deployment_id="d", nonce="n", now=1000
        )
    claims = build_id_token_claims(
        make_ctx(),
        issuer="https://p",
        client_id="c",
        deployment_id="d",
        nonce="n",
        now=1000,
        ttl=120,
        iat_backdate=3,
    )
    assert claims["iat"] == 997 and claims["exp"] == 1117


def test_strip_whitespace_is_recursive():
    assert strip_whitespace({"a": [" x ", {"b": "\ty\n"}], "n": 3}) == {
        "a": ["x", {"b": "y"}],
        "n": 3,
    }


def test_context_round_trip():
    ctx = make_ctx()
    assert context_from_data(context_to_data(ctx)) == ctx


# --- Signing (LTI Security Framework §5.1.2: RS256 with kid) ------------------------------------


def test_sign_id_token_rs256_with_kid():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = sign_id_token(claims_for(now=int(__import__("time").time())), "kid-1", key)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"] == "kid-1"
    decoded = jwt.decode(token, key.public_key(), algorithms=["RS256"], audience=CLIENT)
    assert decoded["sub"] == "opaque-user-1"
    with pytest.raises(ValueError):
        sign_id_token({}, "", key)
