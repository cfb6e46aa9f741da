"""The one verifier of LTI 1.1 requests a tool signs and sends us.

Used by every door that takes a signed LTI 1.1 request from a tool: Basic Outcomes
(``services.outcomes``, a POX body with ``oauth_body_hash``) and the Content-Item answer
(``content_selection.views``, a signed form). The door knows which provider the request must come
from (the sourcedid's, the content selection's); :func:`verify_signed_request` checks that:

1. the provider has an LTI key and secret and the request's ``oauth_consumer_key`` is that key
   (constant-time comparison); a secret that cannot be decrypted counts as no secret (logged);
2. the OAuth 1.0a signature (HMAC-SHA1, or HMAC-SHA256), the timestamp window
   (``OAUTH_TIMESTAMP_WINDOW``), the body hash of a body that is not a form, and the nonce once
   (``security.single_use``, one namespace for every door, so a nonce is single-use per provider
   and key across all of them): the pure OAuth math is ``lti.lti11.verify_request``;
3. then, only for a request whose signature holds, that the provider is enabled (the access rule's
   ``services.access.check_provider``), so a caller without the secret learns nothing about it.

Any failure raises :class:`SignedRequestRefused`: ``reason`` for the log, ``message`` for the
answer, ``authenticated`` telling whether the tool proved who it is (a disabled provider) or not.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest
from django.utils.crypto import constant_time_compare

from ..conf import lti_settings
from ..lti import lti11
from ..models import LtiProvider
from .encryption import DecryptionError
from .single_use import use_once


logger = logging.getLogger(__name__)

#: The single-use namespace of every LTI 1.1 nonce a tool sends us.
NONCE_NAMESPACE = "lti11"


class SignedRequestRefused(Exception):
    """A signed LTI 1.1 request refused: ``reason`` (a stable code, for the log), ``message``
    (for the answer), ``authenticated`` (the signature held; the provider may not be used)."""

    def __init__(self, reason: str, message: str, *, authenticated: bool = False):
        self.reason = reason
        self.message = message
        self.authenticated = authenticated
        super().__init__(message)


def _headers(request: HttpRequest) -> dict[str, str]:
    headers = dict(request.headers)
    # Some servers only pass the Authorization header under this name.
    if "Authorization" not in headers and request.META.get("HTTP_AUTHORIZATION"):
        headers["Authorization"] = request.META["HTTP_AUTHORIZATION"]
    return headers


def verify_signed_request(
    request: HttpRequest, body: bytes, provider: LtiProvider
) -> lti11.VerifiedRequest:
    """Check that ``request`` (with its raw ``body``) was signed by ``provider``'s key and secret
    and may be acted on; raises :class:`SignedRequestRefused` (see the module docstring)."""
    from ..services.access import ServiceRefused, check_provider

    window = int(lti_settings.OAUTH_TIMESTAMP_WINDOW)
    key = provider.consumer_key

    def get_secret(consumer_key: str) -> str | None:
        if not key or not provider.has_secret or not constant_time_compare(consumer_key, key):
            return None
        try:
            return provider.secret
        except DecryptionError:
            logger.error("The secret of LTI provider %s cannot be decrypted.", provider.pk)
            return None

    def use_nonce(consumer_key: str, nonce: str, timestamp: int) -> bool:
        return use_once(NONCE_NAMESPACE, f"{provider.pk}\n{consumer_key}\n{nonce}", 2 * window + 60)

    try:
        verified = lti11.verify_request(
            request.method or "POST",
            request.build_absolute_uri(),
            _headers(request),
            body,
            get_secret=get_secret,
            timestamp_window=window,
            use_nonce=use_nonce,
        )
    except lti11.OAuthError as exc:
        logger.info("Signed LTI 1.1 request refused for provider %s: %s", provider.pk, exc.reason)
        raise SignedRequestRefused(exc.reason, str(exc)) from exc
    try:
        check_provider(provider)
    except ServiceRefused as exc:
        logger.info("Signed LTI 1.1 request refused for provider %s: %s", provider.pk, exc.reason)
        raise SignedRequestRefused(exc.reason, exc.message, authenticated=True) from exc
    return verified
