"""The ``requests`` session the demo tool uses to talk to platforms (JWKS, token, AGS, outcomes).

Everything the tool says to a platform goes over HTTP through this session, never through the
platform's Python code. Tests mount a transport adapter on it to route the calls into Django's
test client.
"""

from __future__ import annotations

import requests


USER_AGENT = "wagtail-lti-demo-tool"
_session: requests.Session | None = None


def http_session() -> requests.Session:
    global _session
    if _session is None:
        _session = requests.Session()
        _session.headers["User-Agent"] = USER_AGENT
    return _session
