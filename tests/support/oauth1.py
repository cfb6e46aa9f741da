"""The tool's side of an LTI 1.1 OAuth 1.0a signature check, for oauthlib and the ``lti`` package.

``ToolValidator`` is what a tool knows: one consumer key and its secret, and the nonces it has
seen (a replayed request is refused). Tests pass it to oauthlib's ``SignatureOnlyEndpoint`` or to
the ``lti`` package's ``ToolProvider.is_valid_request``.
"""

from __future__ import annotations

from oauthlib.oauth1 import RequestValidator


class ToolValidator(RequestValidator):
    """The tool's own validator: knows one key, remembers nonces."""

    enforce_ssl = False
    dummy_client = "dummy-client"

    def __init__(self, *, key: str, secret: str):
        super().__init__()
        self.key, self.secret = key, secret
        self.nonces: set[tuple[str, str, str]] = set()

    @property
    def client_key_length(self):
        return 1, 200

    @property
    def nonce_length(self):
        return 8, 200

    def check_client_key(self, client_key):
        return True

    def check_nonce(self, nonce):
        return True

    def validate_client_key(self, client_key, request):
        return client_key == self.key

    def get_client_secret(self, client_key, request):
        return self.secret if client_key == self.key else "dummy-secret"

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request, **kwargs):
        marker = (client_key, timestamp, nonce)
        if marker in self.nonces:
            return False
        self.nonces.add(marker)
        return True
