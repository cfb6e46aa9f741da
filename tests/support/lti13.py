"""Helpers for tests of the LTI 1.3 service side: a PyLTI1p3 tool talking to our token endpoint
and AGS through a ``requests`` session routed into the Django test client (checklist §8).

``pylti_login`` / ``pylti_launch`` are PyLTI1p3 at the tool's end of a launch (the OIDC login
initiation and the id_token posted to its redirect URI), on requests built as a browser sends them;
``decode_platform_token`` reads a token we signed with our published JWKS.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlencode

import jwt
from django.test import RequestFactory
from django.urls import reverse
from jwt import PyJWKSet
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.service_connector import ServiceConnector

from tests.support.factories import make_provider
from tests.tooling.lti13_tool import make_key_pair, make_tool_conf
from tests.tooling.requests_adapter import routed_session


BASE = "http://testserver"
ISSUER = BASE  # ISSUER is empty in the example settings: the request's scheme and host
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
ALL_AGS_SCOPES = [
    AGS + "lineitem",
    AGS + "lineitem.readonly",
    AGS + "result.readonly",
    AGS + "score",
]
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def token_url() -> str:
    return BASE + reverse("wagtail_lti:lti13_token")


@dataclass
class Tool:
    """One registered LTI 1.3 tool: its keys, its provider row, and its PyLTI1p3 registration."""

    provider: object
    private_pem: str
    public_pem: str

    @property
    def conf(self):
        return make_tool_conf(
            issuer=ISSUER,
            client_id=self.provider.client_id,
            deployment_id=self.provider.deployment_id,
            private_pem=self.private_pem,
            public_pem=self.public_pem,
            platform_base=BASE,
            key_set={"keys": []},
        )

    @property
    def registration(self):
        return self.conf.find_registration_by_params(ISSUER, self.provider.client_id)

    def connector(self, session=None) -> ServiceConnector:
        return ServiceConnector(self.registration, requests_session=session or routed_session(BASE))

    def ags(self, *, lineitems=None, lineitem=None, scopes=ALL_AGS_SCOPES, session=None):
        """PyLTI1p3's AGS client, as a launch's AGS claim would configure it."""
        data = {"scope": list(scopes)}
        if lineitems:
            data["lineitems"] = lineitems
        if lineitem:
            data["lineitem"] = lineitem
        return AssignmentsGradesService(self.connector(session), data)

    def access_token(self, scopes=ALL_AGS_SCOPES) -> str:
        """A bearer token obtained the way PyLTI1p3 obtains one."""
        return self.connector().get_access_token(list(scopes))

    @property
    def kid(self) -> str:
        return self.registration.get_kid()

    def assertion(self, *, key_pem=None, headers=None, algorithm="RS256", drop=(), **claims) -> str:
        """A client assertion like PyLTI1p3's, with any claim overridden or dropped."""
        now = int(time.time())
        body = {
            "iss": self.provider.client_id,
            "sub": self.provider.client_id,
            "aud": token_url(),
            "iat": now - 5,
            "exp": now + 60,
            "jti": "lti-service-token-" + str(uuid.uuid4()),
        }
        body.update(claims)
        for name in drop:
            body.pop(name, None)
        header = {"kid": self.kid} if headers is None else headers
        return jwt.encode(body, key_pem or self.private_pem, algorithm=algorithm, headers=header)


@cache
def tool_key_pair(name: str) -> tuple[str, str]:
    """One RSA key pair per tool name for the whole run (generating keys is slow)."""
    return make_key_pair()


def make_tool(organization, *, name="Quiz tool", jwks_url="", use_pem=True, **fields) -> Tool:
    private_pem, public_pem = tool_key_pair(name)
    provider = make_provider(
        organization,
        name=name,
        version="1.3",
        public_key_pem=public_pem if use_pem else "",
        jwks_url=jwks_url,
        **fields,
    )
    return Tool(provider=provider, private_pem=private_pem, public_pem=public_pem)


def post_token(client, assertion: str | None, scope: str = " ".join(ALL_AGS_SCOPES), **params):
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
        "scope": scope,
    }
    data.update(params)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(
        reverse("wagtail_lti:lti13_token"),
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
    )


# --- PyLTI1p3 at the tool's end of a launch -------------------------------------------------------


def pylti_login(init: dict, conf, redirect_uri: str):
    """PyLTI1p3 handles our login initiation; returns its redirect (to our authorization endpoint)."""
    request = RequestFactory().post("/lti/login/", data=init, HTTP_HOST="tool.example", secure=True)
    response = DjangoOIDCLogin(
        request, conf, launch_data_storage=DjangoCacheDataStorage()
    ).redirect(redirect_uri)
    assert response.status_code == 302
    return response


def pylti_launch(fields: dict, login_response, conf, session=None) -> DjangoMessageLaunch:
    """PyLTI1p3 receives our id_token at its redirect URI (with the login's cookies)."""
    request = RequestFactory().post(
        "/lti/launch/", data=fields, HTTP_HOST="tool.example", secure=True
    )
    request.COOKIES.update({name: morsel.value for name, morsel in login_response.cookies.items()})
    return DjangoMessageLaunch(
        request,
        conf,
        launch_data_storage=DjangoCacheDataStorage(),
        requests_session=session or routed_session(ISSUER),
    )


def oidc_authorization_params(init: dict, *, redirect_uri: str, **overrides) -> dict:
    """An authentication request as a tool builds it from our login initiation (OIDC Core
    §3.1.2.1); an override of None leaves that parameter out."""
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": init["client_id"],
        "redirect_uri": redirect_uri,
        "state": "state-123",
        "nonce": "nonce-456",
        "login_hint": init["login_hint"],
        "lti_message_hint": init["lti_message_hint"],
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def platform_public_keys() -> PyJWKSet:
    from wagtail_lti.security.platform_keys import jwks

    return PyJWKSet.from_dict(jwks())


def decode_platform_token(token: str, audience: str) -> dict:
    """The claims of a token we signed, verified with our JWKS (RS256, audience, issuer)."""
    key = platform_public_keys()[jwt.get_unverified_header(token)["kid"]]
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=audience, issuer=ISSUER)
