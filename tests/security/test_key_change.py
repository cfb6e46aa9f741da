"""A tool's replaced key revokes the access tokens issued before (wagtail_lti.services.access_tokens).

Tokens are obtained with client assertions signed by the tool's key. When an editor (or any
other save) replaces the key material, its JWKS URL or its PEM public key, whoever held the old
key must not keep calling AGS and NRPS with the tokens it already has.
"""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from tests.support.admin import lti13_post, url
from tests.support.lti13 import AGS, make_tool, post_token
from tests.tooling.lti13_tool import make_key_pair
from wagtail_lti.models import AccessToken, LtiProvider
from wagtail_lti.services.access_tokens import ServiceAuthError, authenticate_service_request


SCORE = f"{AGS}score"


def token_for(client, tool) -> str:
    response = post_token(client, tool.assertion(), scope=SCORE)
    assert response.status_code == 200, response.content.decode()
    return response.json()["access_token"]


def works(token: str) -> bool:
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
    try:
        authenticate_service_request(request, [SCORE])
    except ServiceAuthError:
        return False
    return True


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"public_key_pem": make_key_pair()[1]},
        {"jwks_url": "https://tool.example/new-jwks.json"},
    ],
    ids=["new PEM", "new JWKS URL"],
)
def test_new_key_material_revokes_the_providers_tokens(client, orgs, change):
    tool = make_tool(orgs["acme"], name="Keyed tool")
    other = make_tool(orgs["acme"], name="Other tool")
    token, other_token = token_for(client, tool), token_for(client, other)
    assert works(token)
    provider = LtiProvider.objects.get(pk=tool.provider.pk)
    for name, value in change.items():
        setattr(provider, name, value)
    provider.save()
    assert not works(token)
    assert not AccessToken.objects.filter(provider=provider).exists()
    assert works(other_token)


@pytest.mark.django_db
def test_other_changes_keep_the_tokens(client, orgs):
    tool = make_tool(orgs["acme"], name="Keyed tool")
    token = token_for(client, tool)
    provider = LtiProvider.objects.get(pk=tool.provider.pk)
    provider.name = "Renamed tool"
    provider.allow_nrps = True
    provider.save()
    assert works(token)


@pytest.mark.django_db
def test_replacing_the_key_in_the_admin_revokes_the_tokens(client, orgs, make_editor):
    tool = make_tool(orgs["engineering"], name="Keyed tool", jwks_url="")
    token = token_for(client, tool)
    editor_client = type(client)()
    editor_client.force_login(make_editor("alice", orgs["engineering"]))
    provider = tool.provider
    form = lti13_post(
        orgs["engineering"],
        name=provider.name,
        jwks_url="",
        public_key_pem=make_key_pair()[1],
    )
    response = editor_client.post(url(LtiProvider, "edit", provider.pk), form)
    assert response.status_code == 302, [
        (name, errors) for name, errors in response.context["form"].errors.items()
    ]
    assert not works(token)
    assert not AccessToken.objects.filter(provider=provider).exists()
