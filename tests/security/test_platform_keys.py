"""Platform keys: generation, encryption at rest, loading once per process, JWKS, rotation.

LTI Advantage Security Framework §6: every key in the JWKS has a ``kid``; a new key is published
before it signs; old keys stay published for a while. PyLTI1p3 (the tool) looks our ``kid`` up in
our JWKS, so the rotation tests verify with it.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from io import StringIO

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone
from jwcrypto.jwk import JWK
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch
from pylti1p3.exception import LtiException

from tests.tooling.lti13_tool import make_key_pair, make_tool_conf
from tests.tooling.requests_adapter import routed_session
from wagtail_lti.lti import keys
from wagtail_lti.models import PlatformKey
from wagtail_lti.security import platform_keys
from wagtail_lti.security.encryption import decrypt


BASE = "http://testserver"


@pytest.fixture(autouse=True)
def fresh_key_cache():
    platform_keys.clear_cache()
    yield
    platform_keys.clear_cache()


def settings_with(settings, **values):
    return override_settings(WAGTAIL_LTI={**settings.WAGTAIL_LTI, **values})


def age_next_key(seconds=7200):
    """Pretend the next key was published ``seconds`` ago."""
    PlatformKey.objects.filter(state="next").update(
        created_at=timezone.now() - timedelta(seconds=seconds)
    )


# --- Pure key helpers ------------------------------------------------------------------------------


def test_generated_keys_are_rsa_2048_with_a_thumbprint_kid():
    pair = keys.generate_key_pair()
    private_key = keys.load_private_key(pair.private_pem)
    assert isinstance(private_key, rsa.RSAPrivateKey) and private_key.key_size >= 2048
    # The kid is the RFC 7638 thumbprint: check it against jwcrypto's independent implementation.
    assert pair.kid == JWK.from_pem(pair.public_pem.encode()).thumbprint()


def test_small_keys_are_refused():
    with pytest.raises(keys.KeyFormatError):
        keys.generate_key_pair(1024)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    from cryptography.hazmat.primitives import serialization

    pem = small.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(keys.KeyFormatError):
        keys.load_private_key(pem)


def test_public_jwk_has_what_tools_need():
    pair = keys.generate_key_pair()
    jwk = keys.public_jwk(pair.public_pem, pair.kid)
    assert jwk["kid"] == pair.kid and jwk["alg"] == "RS256" and jwk["use"] == "sig"
    assert jwk["kty"] == "RSA" and jwk["n"] and jwk["e"] == "AQAB"
    assert "d" not in jwk and "p" not in jwk  # never anything private
    # jwcrypto reads it back as the same public key.
    assert JWK(**jwk).thumbprint() == pair.kid


# --- Storage, first key on demand, loaded once -----------------------------------------------------


@pytest.mark.django_db
def test_first_key_is_created_on_demand_with_a_next_key_and_stored_encrypted():
    assert not PlatformKey.objects.exists()
    kid, private_key = platform_keys.get_signing_key()
    current = PlatformKey.objects.get(state="current")
    assert current.kid == kid and current.activated_at is not None
    assert PlatformKey.objects.filter(state="next").count() == 1
    assert "PRIVATE KEY" not in current.private_pem_encrypted
    assert decrypt(current.private_pem_encrypted).startswith("-----BEGIN PRIVATE KEY-----")
    assert private_key.key_size >= 2048
    # A second call finds the same key.
    assert platform_keys.get_signing_key()[0] == kid
    assert PlatformKey.objects.count() == 2


@pytest.mark.django_db
def test_private_key_is_parsed_once_per_process(monkeypatch):
    parsed = []
    real_load = keys.load_private_key

    def counting_load(pem):
        parsed.append(pem)
        return real_load(pem)

    monkeypatch.setattr(platform_keys.keys, "load_private_key", counting_load)
    first = [platform_keys.get_signing_key() for _ in range(5)]
    assert len(parsed) == 1
    assert len({kid for kid, _ in first}) == 1 and len({id(key) for _, key in first}) == 1

    age_next_key()
    platform_keys.rotate()
    kid_after, _ = platform_keys.get_signing_key()
    platform_keys.get_signing_key()
    assert kid_after != first[0][0]
    assert len(parsed) == 2  # one more parse, for the new current key only


@pytest.mark.django_db
def test_first_key_creation_survives_a_concurrent_creator(monkeypatch):
    """Another process inserts the first current key between our check and our insert."""
    real_generate = keys.generate_key_pair
    competitor = real_generate()

    def generate_after_competitor(*args, **kwargs):
        if not PlatformKey.objects.filter(state="current").exists():
            PlatformKey.objects.create(
                kid=competitor.kid,
                public_pem=competitor.public_pem,
                private_pem_encrypted=platform_keys.encrypt(competitor.private_pem),
                state="current",
                activated_at=timezone.now(),
            )
        return real_generate(*args, **kwargs)

    monkeypatch.setattr(platform_keys.keys, "generate_key_pair", generate_after_competitor)
    kid, _ = platform_keys.get_signing_key()
    assert kid == competitor.kid
    assert PlatformKey.objects.filter(state="current").count() == 1


@pytest.mark.django_db
def test_database_allows_one_current_and_one_next_key():
    platform_keys.ensure_keys()
    pair = keys.generate_key_pair()
    for state in ("current", "next"):
        with pytest.raises(IntegrityError), transaction.atomic():
            PlatformKey.objects.create(
                kid=f"{pair.kid}-{state}",
                public_pem=pair.public_pem,
                private_pem_encrypted="x",
                state=state,
            )


# --- JWKS endpoint -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_jwks_endpoint_publishes_current_and_next_with_cache_control(client, settings):
    response = client.get(reverse("wagtail_lti:lti13_jwks"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "public, max-age=3600"
    published = response.json()["keys"]
    current = PlatformKey.objects.get(state="current")
    upcoming = PlatformKey.objects.get(state="next")
    assert [k["kid"] for k in published] == [current.kid, upcoming.kid]
    for jwk in published:
        assert {"kty", "kid", "alg", "use", "n", "e"} <= set(jwk) and jwk["alg"] == "RS256"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)

    with settings_with(settings, JWKS_MAX_AGE=600):
        assert (
            client.get(reverse("wagtail_lti:lti13_jwks"))["Cache-Control"] == "public, max-age=600"
        )


@pytest.mark.django_db
def test_jwks_endpoint_refuses_post(client):
    assert client.post(reverse("wagtail_lti:lti13_jwks")).status_code == 405


# --- Rotation --------------------------------------------------------------------------------------


def _pylti_verifies(token: str) -> bool:
    """Verify ``token`` the way a PyLTI1p3 tool verifies our id_token: kid + alg looked up in our
    JWKS, fetched from the JWKS URL through a session routed into the Django test client."""
    tool_private, tool_public = make_key_pair()
    claims = jwt.decode(token, options={"verify_signature": False})
    conf = make_tool_conf(
        issuer=claims["iss"],
        client_id=claims["aud"],
        deployment_id="d",
        private_pem=tool_private,
        public_pem=tool_public,
        platform_base=BASE,
    )
    request = RequestFactory().post("/launch/", {"id_token": token, "state": "s"})
    request.session = {}
    launch = DjangoMessageLaunch(
        request,
        conf,
        launch_data_storage=DjangoCacheDataStorage(),
        requests_session=routed_session(BASE),
    )
    launch.set_auto_validation(False)  # run only the format, registration and signature checks
    try:
        launch.validate_jwt_format().validate_registration().validate_jwt_signature()
    except LtiException:
        return False
    return True


def _signed_now(**claims) -> str:
    kid, private_key = platform_keys.get_signing_key()
    now = int(time.time())
    body = {"iss": BASE, "aud": "tool-client", "sub": "u1", "iat": now - 5, "exp": now + 300}
    body.update(claims)
    return jwt.encode(body, private_key, algorithm="RS256", headers={"kid": kid})


def _published_kids(client) -> list[str]:
    return [k["kid"] for k in client.get(reverse("wagtail_lti:lti13_jwks")).json()["keys"]]


@pytest.mark.django_db
def test_a_token_signed_before_rotation_still_verifies_while_its_key_is_retired(client):
    token = _signed_now()
    old_kid = jwt.get_unverified_header(token)["kid"]
    assert _pylti_verifies(token)

    age_next_key()
    result = platform_keys.rotate()
    assert result.retired == old_kid and result.promoted and result.created_next

    # The JWKS shows the overlap: new current, new next, and the retired key.
    kids = _published_kids(client)
    assert len(kids) == 3 and kids[0] == result.promoted and kids[1] == result.created_next
    assert kids[2] == old_kid
    assert _pylti_verifies(token)  # the launch in flight still verifies
    # PyJWT, on its own, too.
    jwk_set = jwt.PyJWKSet.from_dict(client.get(reverse("wagtail_lti:lti13_jwks")).json())
    assert (
        jwt.decode(token, jwk_set[old_kid].key, algorithms=["RS256"], audience="tool-client")["sub"]
        == "u1"
    )

    # New messages are signed with the new key.
    assert jwt.get_unverified_header(_signed_now())["kid"] == result.promoted

    # After the overlap the retired key is dropped and tokens signed with it no longer verify.
    later = timezone.now() + timedelta(days=8)
    PlatformKey.objects.filter(state="next").update(created_at=later - timedelta(hours=2))
    dropped = platform_keys.rotate(now=later)
    assert old_kid in dropped.dropped
    assert old_kid not in _published_kids(client)
    assert not _pylti_verifies(token)


@pytest.mark.django_db
def test_retired_keys_stay_published_for_the_configured_overlap(client, settings):
    platform_keys.ensure_keys()
    old = PlatformKey.objects.get(state="current").kid
    age_next_key()
    platform_keys.rotate()
    with settings_with(settings, KEY_ROTATION_OVERLAP_DAYS=2):
        PlatformKey.objects.filter(kid=old).update(retired_at=timezone.now() - timedelta(days=1))
        assert old in _published_kids(client)
        PlatformKey.objects.filter(kid=old).update(retired_at=timezone.now() - timedelta(days=3))
        assert old not in _published_kids(client)


@pytest.mark.django_db
def test_rotation_waits_until_the_next_key_has_been_published_long_enough():
    """Pitfall 5: tools cache our JWKS for up to JWKS_MAX_AGE; a next key younger than that may be
    unknown to them, so promoting it would break their verification."""
    platform_keys.ensure_keys()
    current = PlatformKey.objects.get(state="current").kid
    result = platform_keys.rotate()
    assert result.promoted is None and "published for" in result.skipped
    assert PlatformKey.objects.get(state="current").kid == current

    forced = platform_keys.rotate(force=True)
    assert forced.retired == current and forced.promoted


@pytest.mark.django_db
def test_rotation_on_an_empty_database_creates_the_keys():
    result = platform_keys.rotate()
    assert result.promoted and result.created_next
    assert PlatformKey.objects.filter(state="current").count() == 1
    assert PlatformKey.objects.filter(state="next").count() == 1


@pytest.mark.django_db
def test_rotate_keys_command_is_safe_to_run_repeatedly():
    out = StringIO()
    call_command("lti_rotate_keys", stdout=out)  # first run: creates the keys
    age_next_key()
    out = StringIO()
    call_command("lti_rotate_keys", stdout=out)
    assert "Now signing with" in out.getvalue() and "Retired" in out.getvalue()
    signing = PlatformKey.objects.get(state="current").kid

    # Run again straight away (a schedule firing twice): the fresh next key is not promoted.
    out = StringIO()
    call_command("lti_rotate_keys", stdout=out)
    assert "Not rotated" in out.getvalue()
    assert PlatformKey.objects.get(state="current").kid == signing
    assert PlatformKey.objects.filter(state="next").count() == 1
    assert PlatformKey.objects.filter(state="retired").count() == 1


@pytest.mark.django_db
def test_jwks_json_is_small():
    """Pitfall 6: keep the keyset small (three 2048-bit keys at most)."""
    platform_keys.ensure_keys()
    age_next_key()
    platform_keys.rotate()
    assert len(json.dumps(platform_keys.jwks())) < 2500
