"""Verification of requests tools sign (``lti11.verify_request``), protocol core only.

Requests are signed here the way tools sign them: requests-oauthlib's ``OAuth1`` with the
signature in the ``Authorization`` header and ``oauth_body_hash`` over the XML body (LTI 1.1
Basic Outcomes §6; OAuth Body Hash draft §3).
"""

from __future__ import annotations

import re

import pytest
import requests
from requests_oauthlib import OAuth1

from wagtail_lti.lti import lti11


URL = "https://learn.example.com/lti/1.1/outcomes/?tenant=acme"
KEY, SECRET = "tool-key", "tool-secret"
BODY = b"<?xml version='1.0'?><imsx_POXEnvelopeRequest/>"


def signed(
    body: bytes = BODY,
    *,
    key: str = KEY,
    secret: str = SECRET,
    url: str = URL,
    method: str = "HMAC-SHA1",
    **oauth_kwargs,
) -> tuple[str, dict[str, str], bytes]:
    auth = OAuth1(
        key,
        secret,
        signature_type="auth_header",
        signature_method=method,
        force_include_body=True,
        **oauth_kwargs,
    )
    prepared = requests.Request(
        "POST", url, data=body, headers={"Content-Type": "application/xml"}, auth=auth
    ).prepare()
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()}
    return prepared.url, headers, prepared.body


class Nonces:
    def __init__(self):
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, key: str, nonce: str, timestamp: int) -> bool:
        if (key, nonce) in self.seen:
            return False
        self.seen.add((key, nonce))
        return True


def verify(url, headers, body, *, nonces=None, secrets=None, now=None):
    secrets = {KEY: SECRET} if secrets is None else secrets
    return lti11.verify_request(
        "POST",
        url,
        headers,
        body,
        get_secret=secrets.get,
        timestamp_window=300,
        use_nonce=nonces or Nonces(),
        now=now,
    )


def test_a_correctly_signed_request_is_accepted():
    url, headers, body = signed()
    result = verify(url, headers, body)
    assert result.consumer_key == KEY
    assert result.body_hash == lti11.body_hash(BODY)


def test_hmac_sha256_is_accepted():
    url, headers, body = signed(method="HMAC-SHA256")
    assert verify(url, headers, body).signature_method == "HMAC-SHA256"


def test_bad_signature():
    url, headers, body = signed(secret="not-the-secret")
    with pytest.raises(lti11.BadSignature):
        verify(url, headers, body)


def test_changed_query_string_breaks_the_signature():
    url, headers, body = signed()
    with pytest.raises(lti11.BadSignature):
        verify(url.replace("tenant=acme", "tenant=other"), headers, body)


def test_unknown_key():
    url, headers, body = signed(key="someone-else")
    with pytest.raises(lti11.UnknownConsumerKey):
        verify(url, headers, body)


@pytest.mark.parametrize("offset", [-301, 301])
def test_stale_timestamp(offset):
    url, headers, body = signed()
    # Relative to the signed oauth_timestamp (whole seconds), not to the clock: the clock's
    # fraction of a second would put the difference at 300.x, inside the window.
    stamped = int(re.search(r'oauth_timestamp="(\d+)"', headers["Authorization"]).group(1))
    with pytest.raises(lti11.StaleTimestamp):
        verify(url, headers, body, now=stamped + offset)


def test_replayed_nonce():
    nonces = Nonces()
    url, headers, body = signed()
    verify(url, headers, body, nonces=nonces)
    with pytest.raises(lti11.ReplayedNonce):
        verify(url, headers, body, nonces=nonces)


def test_nonce_is_not_used_up_by_an_invalid_request():
    nonces = Nonces()
    url, headers, body = signed(secret="wrong")
    with pytest.raises(lti11.BadSignature):
        verify(url, headers, body, nonces=nonces)
    assert nonces.seen == set()


def test_body_hash_mismatch():
    """The body is not in the base string: only oauth_body_hash protects it."""
    url, headers, _ = signed()
    with pytest.raises(lti11.BodyHashMismatch):
        verify(url, headers, BODY.replace(b"Request", b"Requesx"))


def test_missing_body_hash():
    url, headers, body = signed()
    auth = headers["Authorization"]
    start = auth.index("oauth_body_hash")
    end = auth.index(",", start) + 1
    headers["Authorization"] = auth[:start] + auth[end:]
    with pytest.raises(lti11.MissingOAuthParameters, match="oauth_body_hash"):
        verify(url, headers, body)


def test_missing_authorization_header():
    url, headers, body = signed()
    del headers["Authorization"]
    with pytest.raises(lti11.MissingOAuthParameters):
        verify(url, headers, body)


def test_duplicated_header_parameter_is_refused():
    """Pitfall: a duplicated oauth_* parameter must not be silently collapsed."""
    url, headers, body = signed()
    headers["Authorization"] += ', oauth_nonce="another"'
    with pytest.raises(lti11.MissingOAuthParameters, match="more than once"):
        verify(url, headers, body)


def test_plaintext_signatures_are_refused():
    url, headers, body = signed(method="PLAINTEXT")
    with pytest.raises(lti11.UnsupportedSignatureMethod):
        verify(url, headers, body)


def test_launch_signed_by_us_verifies_as_a_form_post():
    """The verifier also reads form bodies (no body hash there), e.g. our own launches."""
    params = lti11.sign_launch(URL, {"lti_message_type": "basic-lti-launch-request"}, KEY, SECRET)
    body = requests.models.RequestEncodingMixin._encode_params(params).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert verify(URL, headers, body).consumer_key == KEY
    with pytest.raises(lti11.BadSignature):
        verify(URL, headers, body.replace(b"basic-lti", b"other-lti"), nonces=Nonces())
