"""The example site's demo tool in tests: its and the platform's outgoing HTTP routed in-process."""

from __future__ import annotations

from collections.abc import Iterator

from tests.tooling.requests_adapter import routed_session


def route_demo_http(monkeypatch, base: str) -> Iterator[tuple]:
    """Route the demo tool's and the platform's outgoing HTTP into the Django test client at
    ``base``; yields ``(tool_session, platform_session)``, the cache cleared around. For a
    fixture: ``yield from route_demo_http(monkeypatch, BASE)``."""
    from django.core.cache import cache

    from demo_tool import http as tool_http
    from wagtail_lti.security import outbound

    tool_session = routed_session(base)
    platform_session = routed_session(base)
    monkeypatch.setattr(tool_http, "_session", tool_session)
    monkeypatch.setattr(outbound, "_session", platform_session)
    cache.clear()
    yield tool_session, platform_session
    cache.clear()
