"""The token endpoint (LTI Advantage Security Framework §4.1; RFC 6749 §4.4, §5; RFC 7523).

PyLTI1p3's ``ServiceConnector`` is the tool: it signs the client assertion and posts the token
request exactly as it does against any platform. Each refusal is checked to issue no token.
"""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from django.core.cache import caches
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from pylti1p3.exception import LtiServiceException
from requests.adapters import BaseAdapter

from tests.support.lti13 import (
    AGS,
    ALL_AGS_SCOPES,
    NRPS_SCOPE,
    make_tool,
    post_token,
    token_url,
)
from tests.tooling.lti13_tool import make_key_pair
from wagtail_lti.models import AccessToken, SingleUseValue
from wagtail_lti.security import tool_keys
from wagtail_lti.services.access_tokens import ServiceAuthError, authenticate_service_request


@pytest.fixture(autouse=True)
def clear_cache():
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture
def tool(orgs):
    return make_tool(orgs["acme"])


def assert_refused(response, error, status=None):
    assert response.status_code == (status or (401 if error == "invalid_client" else 400)), (
        response.content
    )
    body = response.json()
    assert body["error"] == error and body["error_description"]
    assert response["Cache-Control"] == "no-store"
    assert not AccessToken.objects.exists()


# --- Granted ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pylti1p3_gets_an_access_token(tool):
    connector = tool.connector()
    token = connector.get_access_token(ALL_AGS_SCOPES)
    stored = AccessToken.objects.get()
    assert stored.provider == tool.provider
    assert set(stored.scopes.split()) == set(ALL_AGS_SCOPES)
    # Only a hash is stored.
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    assert len(token) >= 40


@pytest.mark.django_db
def test_token_response_fields(client, tool):
    response = post_token(client, tool.assertion())
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"].lower() == "bearer"
    assert body["expires_in"] == 3600
    assert set(body["scope"].split()) == set(ALL_AGS_SCOPES)
    assert response["Cache-Control"] == "no-store"
    stored = AccessToken.objects.get()
    remaining = (stored.expires_at - timezone.now()).total_seconds()
    assert 3590 < remaining <= 3600


@pytest.mark.django_db
def test_access_token_ttl_comes_from_the_settings(client, tool, settings):
    with override_settings(WAGTAIL_LTI={**settings.WAGTAIL_LTI, "ACCESS_TOKEN_TTL": 120}):
        assert post_token(client, tool.assertion()).json()["expires_in"] == 120


@pytest.mark.django_db
def test_only_the_scopes_the_provider_may_have_are_granted(client, tool):
    """A subset of what was asked: the NRPS scope is dropped for a provider without NRPS."""
    response = post_token(
        client, tool.assertion(), scope=f"{AGS}score {NRPS_SCOPE} https://example.com/other"
    )
    assert response.status_code == 200
    assert response.json()["scope"] == f"{AGS}score"

    tool.provider.allow_nrps = True
    tool.provider.save()
    response = post_token(client, tool.assertion(), scope=f"{AGS}score {NRPS_SCOPE}")
    assert response.json()["scope"].split() == [f"{AGS}score", NRPS_SCOPE]


@pytest.mark.django_db
def test_a_scope_the_provider_does_not_have_is_refused(client, tool):
    assert_refused(post_token(client, tool.assertion(), scope=NRPS_SCOPE), "invalid_scope")
    tool.provider.allow_ags = False
    tool.provider.save()
    assert_refused(post_token(client, tool.assertion(), scope=f"{AGS}score"), "invalid_scope")
    with pytest.raises(LtiServiceException):
        tool.connector().get_access_token([f"{AGS}score"])
    assert not AccessToken.objects.exists()


@pytest.mark.django_db
def test_no_scope_is_refused(client, tool):
    assert_refused(post_token(client, tool.assertion(), scope=None), "invalid_scope")


# --- Client assertion refused ------------------------------------------------------------------------


@pytest.mark.django_db
def test_forged_assertion_signed_with_another_key(client, tool):
    other_private, _ = make_key_pair()
    assert_refused(post_token(client, tool.assertion(key_pem=other_private)), "invalid_client")


@pytest.mark.django_db
def test_expired_assertion(client, tool):
    now = int(time.time())
    assert_refused(
        post_token(client, tool.assertion(iat=now - 600, exp=now - 300)), "invalid_client"
    )


@pytest.mark.django_db
def test_small_clock_skew_is_tolerated_but_not_more(client, tool):
    """Pitfall 3: exp just past and iat just ahead are within CLIENT_ASSERTION_LEEWAY (60 s)."""
    now = int(time.time())
    assert post_token(client, tool.assertion(iat=now - 100, exp=now - 30)).status_code == 200
    assert post_token(client, tool.assertion(iat=now + 30, exp=now + 90)).status_code == 200
    AccessToken.objects.all().delete()
    assert_refused(
        post_token(client, tool.assertion(iat=now + 300, exp=now + 600)), "invalid_client"
    )


@pytest.mark.django_db
def test_wrong_audience(client, tool):
    response = post_token(client, tool.assertion(aud="https://other-platform.example/token"))
    assert_refused(response, "invalid_client")
    assert "aud" in response.json()["error_description"]


@pytest.mark.django_db
def test_audience_may_be_an_array(client, tool):
    response = post_token(client, tool.assertion(aud=["https://elsewhere.example", token_url()]))
    assert response.status_code == 200


@pytest.mark.django_db
def test_replayed_jti(client, tool):
    assertion = tool.assertion()
    assert post_token(client, assertion).status_code == 200
    response = post_token(client, assertion)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert "jti" in response.json()["error_description"]
    assert AccessToken.objects.count() == 1
    # The jti is kept in the database (shared by every process), hashed.
    assert SingleUseValue.objects.filter(namespace="jti").count() == 1


@pytest.mark.django_db
def test_same_jti_with_a_new_signature_is_still_a_replay(client, tool):
    assert post_token(client, tool.assertion(jti="fixed")).status_code == 200
    assert post_token(client, tool.assertion(jti="fixed")).status_code == 401
    assert AccessToken.objects.count() == 1


@pytest.mark.django_db
def test_unknown_client_id(client, tool):
    assertion = tool.assertion(iss="nobody", sub="nobody")
    response = post_token(client, assertion)
    assert_refused(response, "invalid_client")
    assert response.json()["error_description"] == "Unknown client_id."


@pytest.mark.django_db
def test_lti11_provider_cannot_get_tokens(client, tool):
    tool.provider.lti_version = "1.1"
    tool.provider.save()
    assert_refused(post_token(client, tool.assertion()), "invalid_client")


@pytest.mark.parametrize(
    "overrides",
    [
        {"sub": "someone-else"},
        {"drop": ("sub",)},
        {"drop": ("jti",)},
        {"jti": ""},
        {"drop": ("exp",)},
        {"drop": ("iat",)},
        {"drop": ("aud",)},
    ],
    ids=["sub-differs", "no-sub", "no-jti", "empty-jti", "no-exp", "no-iat", "no-aud"],
)
@pytest.mark.django_db
def test_missing_or_wrong_claims(client, tool, overrides):
    assert_refused(post_token(client, tool.assertion(**overrides)), "invalid_client")


@pytest.mark.django_db
def test_only_rs256_is_accepted(client, tool):
    # alg=none, and HS256 "signed" with the tool's public key (the classic algorithm confusion).
    body = jwt.decode(tool.assertion(), options={"verify_signature": False})
    unsigned = jwt.encode(body, None, algorithm="none")
    assert_refused(post_token(client, unsigned), "invalid_client")
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT"}').decode()
    payload = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(body).encode()).decode()
    import hashlib
    import hmac

    signature = hmac.new(
        tool.public_pem.encode(), f"{header}.{payload}".encode(), hashlib.sha256
    ).digest()
    hs256 = f"{header}.{payload}.{jwt.utils.base64url_encode(signature).decode()}"
    assert_refused(post_token(client, hs256), "invalid_client")
    assert_refused(post_token(client, "not-a-jwt"), "invalid_client")


# --- Malformed requests (RFC 6749 §5.2) --------------------------------------------------------------


@pytest.mark.django_db
def test_grant_type(client, tool):
    assert_refused(
        post_token(client, tool.assertion(), grant_type="authorization_code"),
        "unsupported_grant_type",
    )
    assert_refused(post_token(client, tool.assertion(), grant_type=None), "invalid_request")


@pytest.mark.django_db
def test_assertion_type_and_assertion_required(client, tool):
    assert_refused(post_token(client, None), "invalid_request")
    assert_refused(
        post_token(client, tool.assertion(), client_assertion_type="urn:other"), "invalid_client"
    )


@pytest.mark.django_db
def test_repeated_parameters_are_refused(client, tool):
    response = client.post(
        reverse("wagtail_lti:lti13_token"),
        "grant_type=client_credentials&grant_type=client_credentials"
        f"&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
        f"&client_assertion={tool.assertion()}&scope={AGS}score",
        content_type="application/x-www-form-urlencoded",
    )
    assert_refused(response, "invalid_request")


@pytest.mark.django_db
def test_json_body_and_get_are_refused(client, tool):
    response = client.post(
        reverse("wagtail_lti:lti13_token"),
        {"grant_type": "client_credentials", "client_assertion": tool.assertion()},
        content_type="application/json",
    )
    assert_refused(response, "invalid_request")
    response = client.get(reverse("wagtail_lti:lti13_token"))
    assert response.status_code == 405 and response["Allow"] == "POST"


@pytest.mark.django_db
def test_oversized_body_is_refused(client, tool, settings):
    with override_settings(WAGTAIL_LTI={**settings.WAGTAIL_LTI, "MAX_REQUEST_BODY": 200}):
        assert_refused(post_token(client, tool.assertion()), "invalid_request")


# --- The tool's keys from its JWKS URL -----------------------------------------------------------------


class FakeJwksServer(BaseAdapter):
    """Answers GETs of the tool's JWKS URL; records each call and its timeout."""

    def __init__(self, keyset=None, *, fail_with=None):
        super().__init__()
        self.keyset = keyset
        self.fail_with = fail_with
        self.calls = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.calls.append({"url": request.url, "timeout": timeout})
        if self.fail_with is not None:
            raise self.fail_with
        response = requests.Response()
        response.status_code = 200
        response._content = jwt.api_jws.json.dumps(self.keyset).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


JWKS_URL = "https://tool.example/.well-known/jwks.json"


@pytest.fixture
def jwks_server():
    server = FakeJwksServer()
    session = tool_keys.http_session()
    session.mount("https://tool.example/", server)
    yield server
    session.adapters.pop("https://tool.example/", None)


@pytest.fixture
def jwks_tool(orgs, jwks_server):
    tool = make_tool(orgs["acme"], name="JWKS tool", jwks_url=JWKS_URL, use_pem=False)
    jwks_server.keyset = {"keys": tool.conf.get_jwks()["keys"]}
    return tool


@pytest.mark.django_db
def test_keys_from_the_jwks_url_are_fetched_once_and_cached(client, jwks_tool, jwks_server):
    assert post_token(client, jwks_tool.assertion()).status_code == 200
    assert post_token(client, jwks_tool.assertion()).status_code == 200
    assert len(jwks_server.calls) == 1
    assert jwks_server.calls[0]["timeout"] == 5  # JWKS_FETCH_TIMEOUT
    # PyLTI1p3 through the same JWKS.
    jwks_tool.connector().get_access_token([f"{AGS}score"])
    assert len(jwks_server.calls) == 1


@pytest.mark.django_db
def test_unknown_kid_refetches_the_jwks_once(client, jwks_tool, jwks_server):
    """The tool rotated its key: the cached keyset lacks the new kid, so it is fetched again."""
    assert post_token(client, jwks_tool.assertion()).status_code == 200
    new_private, new_public = make_key_pair()
    from jwcrypto.jwk import JWK

    new_jwk = {
        **JWK.from_pem(new_public.encode()).export_public(as_dict=True),
        "alg": "RS256",
        "use": "sig",
    }
    jwks_server.keyset = {"keys": [*jwks_server.keyset["keys"], new_jwk]}
    rotated = jwks_tool.assertion(key_pem=new_private, headers={"kid": new_jwk["kid"]})
    assert post_token(client, rotated).status_code == 200
    assert len(jwks_server.calls) == 2

    # A made-up kid right after that does not trigger another fetch (at most one per interval).
    bogus = jwks_tool.assertion(key_pem=new_private, headers={"kid": "made-up"})
    response = post_token(client, bogus)
    assert response.status_code == 401 and "made-up" in response.json()["error_description"]
    assert len(jwks_server.calls) == 2


@pytest.mark.django_db
def test_jwks_url_timeout_is_refused_cleanly(client, orgs, jwks_server):
    jwks_server.fail_with = requests.exceptions.ReadTimeout("slow tool")
    tool = make_tool(orgs["acme"], name="Slow tool", jwks_url=JWKS_URL, use_pem=False)
    response = post_token(client, tool.assertion())
    assert_refused(response, "invalid_client")
    # The caller is not told what the fetch met (the launch log is: tests/test_security_outbound.py).
    assert "within 5 seconds" not in response.json()["error_description"]
    assert jwks_server.calls[0]["timeout"] == 5
    # The failure is remembered for a while: the next request does not fetch again.
    assert_refused(post_token(client, tool.assertion()), "invalid_client")
    assert len(jwks_server.calls) == 1


@pytest.mark.django_db
def test_jwks_url_connection_error_and_bad_keyset(client, orgs, jwks_server):
    tool = make_tool(orgs["acme"], name="Broken tool", jwks_url=JWKS_URL, use_pem=False)
    jwks_server.fail_with = requests.exceptions.ConnectionError("refused")
    assert_refused(post_token(client, tool.assertion()), "invalid_client")
    jwks_server.fail_with = None
    jwks_server.keyset = ["not", "a", "keyset"]
    caches["default"].clear()  # the failure above is remembered for a while
    assert_refused(post_token(client, tool.assertion()), "invalid_client")


@pytest.mark.django_db
def test_fetch_timeout_setting_is_used(client, jwks_tool, jwks_server, settings):
    with override_settings(WAGTAIL_LTI={**settings.WAGTAIL_LTI, "JWKS_FETCH_TIMEOUT": 2}):
        post_token(client, jwks_tool.assertion())
    assert jwks_server.calls[0]["timeout"] == 2


# --- Using the access token ------------------------------------------------------------------------


@pytest.mark.django_db
def test_authenticate_service_request(rf, tool):
    token = tool.access_token([f"{AGS}score"])

    def request(value):
        return rf.get("/", HTTP_AUTHORIZATION=value)

    provider, scopes = authenticate_service_request(request(f"Bearer {token}"), [f"{AGS}score"])
    assert provider == tool.provider and scopes == {f"{AGS}score"}

    with pytest.raises(ServiceAuthError) as missing_scope:
        authenticate_service_request(request(f"Bearer {token}"), [f"{AGS}lineitem"])
    assert missing_scope.value.status == 403 and missing_scope.value.error == "insufficient_scope"

    for bad in ("", "Bearer", f"Basic {token}", "Bearer wrong"):
        with pytest.raises(ServiceAuthError) as refused:
            authenticate_service_request(request(bad), [f"{AGS}score"])
        assert refused.value.status == 401
        assert refused.value.response()["WWW-Authenticate"].startswith("Bearer")

    # Expired.
    AccessToken.objects.update(expires_at=timezone.now())
    with pytest.raises(ServiceAuthError):
        authenticate_service_request(request(f"Bearer {token}"), [f"{AGS}score"])


@pytest.mark.django_db
def test_a_permission_taken_away_after_issuing_is_honoured(rf, tool):
    token = tool.access_token([f"{AGS}score"])
    tool.provider.allow_ags = False
    tool.provider.save()
    with pytest.raises(ServiceAuthError) as refused:
        authenticate_service_request(
            rf.get("/", HTTP_AUTHORIZATION=f"Bearer {token}"), [f"{AGS}score"]
        )
    assert refused.value.status == 403


@pytest.mark.django_db
def test_audience_is_the_token_url_on_the_issuer_host(client, tool, settings):
    """With ISSUER set (a site behind a proxy), tools address the token URL on the issuer's host."""
    with override_settings(
        WAGTAIL_LTI={**settings.WAGTAIL_LTI, "ISSUER": "https://lms.example.edu"}
    ):
        on_issuer = tool.assertion(aud="https://lms.example.edu/lti/1.3/token/")
        assert post_token(client, on_issuer).status_code == 200
        elsewhere = tool.assertion(aud="https://lms.example.edu/other/token/")
        assert post_token(client, elsewhere).status_code == 401


@pytest.mark.django_db
def test_a_tool_without_any_public_key_is_refused(client, orgs):
    keyless = make_tool(orgs["acme"], name="Keyless", use_pem=False)
    response = post_token(client, keyless.assertion())
    assert_refused(response, "invalid_client")
    assert "no public key" in response.json()["error_description"]
