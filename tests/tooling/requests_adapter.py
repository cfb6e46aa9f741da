"""Route a ``requests.Session`` into Django's test client.

PyLTI1p3 talks to the platform with ``requests`` (our JWKS, the token endpoint, AGS). Mounting
:class:`DjangoClientAdapter` on a session sends those calls through ``django.test.Client``, so a
test sees the real views, middleware and URLconf without a running server::

    session = routed_session("http://testserver")
    DjangoMessageLaunch(request, tool_conf, requests_session=session, ...)
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from django.test import Client
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict


class DjangoClientAdapter(BaseAdapter):
    """A ``requests`` transport adapter answering from ``django.test.Client``."""

    def __init__(self, client: Client | None = None):
        super().__init__()
        self.client = client or Client()
        self.calls: list[tuple[str, str]] = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in {"content-length", "host"}
        }
        content_type = headers.pop("Content-Type", None) or headers.pop("content-type", None)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        self.calls.append((request.method, request.url))
        django_response = self.client.generic(
            request.method,
            path,
            data=body,
            content_type=content_type or "application/octet-stream",
            secure=parts.scheme == "https",
            headers=headers,
            SERVER_NAME=parts.hostname or "testserver",
            SERVER_PORT=str(parts.port or (443 if parts.scheme == "https" else 80)),
        )
        response = requests.Response()
        response.status_code = django_response.status_code
        response.headers = CaseInsensitiveDict(dict(django_response.items()))
        response._content = django_response.content
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        response.reason = getattr(django_response, "reason_phrase", "")
        return response

    def close(self):
        pass


def routed_session(
    base_url: str = "http://testserver", client: Client | None = None
) -> requests.Session:
    """A session whose requests to ``base_url`` are answered by the Django test client."""
    session = requests.Session()
    adapter = DjangoClientAdapter(client)
    session.mount(base_url.rstrip("/") + "/", adapter)
    session.adapter = adapter  # for assertions on the calls made
    return session
