"""The example site is configured from the environment (docs/production.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory, override_settings

from example_site.reporting import SecretHidingExceptionReporterFilter


ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
import django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "db_engine": s.DATABASES["default"]["ENGINE"],
    "db_name": s.DATABASES["default"]["NAME"],
    "db_host": s.DATABASES["default"].get("HOST"),
    "cache": s.CACHES["default"]["BACKEND"],
    "cache_location": s.CACHES["default"].get("LOCATION"),
    "session_engine": s.SESSION_ENGINE,
    "debug": s.DEBUG,
    "allowed_hosts": s.ALLOWED_HOSTS,
    "csrf_trusted_origins": s.CSRF_TRUSTED_ORIGINS,
    "session_samesite": s.SESSION_COOKIE_SAMESITE,
    "session_secure": s.SESSION_COOKIE_SECURE,
    "csrf_samesite": s.CSRF_COOKIE_SAMESITE,
    "csrf_secure": s.CSRF_COOKIE_SECURE,
    "proxy_header": s.SECURE_PROXY_SSL_HEADER,
    "x_frame_options": s.X_FRAME_OPTIONS,
    "lti": s.WAGTAIL_LTI,
}))
"""

CONFIG_VARS = (
    "DATABASE_URL CACHE_URL SECRET_KEY DEBUG ALLOWED_HOSTS CSRF_TRUSTED_ORIGINS SECURE_COOKIES "
    "TRUST_X_FORWARDED_PROTO LTI_FRAME_ANCESTORS LTI_ISSUER LTI_ENCRYPTION_KEY "
    "LTI_OUTBOUND_ALLOW_LOCAL"
).split()


def load_settings(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    base.update(
        env, DJANGO_SETTINGS_MODULE="example_site.settings", PYTHONPATH=str(ROOT / "example_site")
    )
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def settings_from(**env: str) -> dict:
    result = load_settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_defaults_are_a_local_development_site():
    s = settings_from()
    assert s["db_engine"] == "django.db.backends.sqlite3"
    assert s["cache"].endswith("LocMemCache")
    assert s["session_engine"] == "django.contrib.sessions.backends.db"
    assert s["debug"] is True
    assert s["session_samesite"] == "Lax" and s["session_secure"] is False
    assert s["proxy_header"] is None
    assert s["x_frame_options"] == "DENY"
    assert s["lti"]["FRAME_ANCESTORS"] == []


def test_production_environment():
    s = settings_from(
        DEBUG="0",
        SECRET_KEY="a-real-secret",
        DATABASE_URL="postgres://lti:pw@db.internal:5432/lti",
        CACHE_URL="redis://cache.internal:6379/1",
        ALLOWED_HOSTS="lti.example.com, www.lti.example.com",
        CSRF_TRUSTED_ORIGINS="https://lti.example.com",
        SECURE_COOKIES="1",
        TRUST_X_FORWARDED_PROTO="1",
        LTI_FRAME_ANCESTORS="https://lms.example.com https://intranet.example.org",
        LTI_ISSUER="https://lti.example.com",
    )
    assert s["db_engine"] == "django.db.backends.postgresql"
    assert (s["db_name"], s["db_host"]) == ("lti", "db.internal")
    assert s["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert s["cache_location"] == "redis://cache.internal:6379/1"
    # Sessions read from the shared cache, written through to the database.
    assert s["session_engine"] == "django.contrib.sessions.backends.cached_db"
    assert s["debug"] is False
    assert s["allowed_hosts"] == ["lti.example.com", "www.lti.example.com"]
    assert s["csrf_trusted_origins"] == ["https://lti.example.com"]
    # Embedded launches: cookies must travel on cross-site requests, hence SameSite=None; Secure.
    assert (s["session_samesite"], s["session_secure"]) == ("None", True)
    assert (s["csrf_samesite"], s["csrf_secure"]) == ("None", True)
    assert s["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["lti"]["FRAME_ANCESTORS"] == [
        "https://lms.example.com",
        "https://intranet.example.org",
    ]
    assert s["lti"]["ISSUER"] == "https://lti.example.com"


def test_secure_cookies_do_not_trust_proxy_headers_by_themselves():
    s = settings_from(SECURE_COOKIES="1")
    assert s["session_secure"] is True
    assert s["proxy_header"] is None


def test_debug_off_refuses_the_development_secret_key():
    result = load_settings(DEBUG="0")
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_error_reports_hide_connection_urls_and_secrets():
    request = RequestFactory().get(
        "/",
        DATABASE_URL="postgres://lti:db-password@db/lti",
        CACHE_URL="redis://:cache-password@cache:6379/0",
        SECRET_KEY="the-secret",
        HTTP_COOKIE="sessionid=abc",
        PATH_INFO_EXTRA="visible",
    )
    meta = SecretHidingExceptionReporterFilter().get_safe_request_meta(request)
    text = repr(meta)
    for secret in ("db-password", "cache-password", "the-secret", "sessionid=abc"):
        assert secret not in text
    assert meta["PATH_INFO_EXTRA"] == "visible"


@pytest.mark.django_db
def test_error_reports_hide_cache_location_and_lti_keys():
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "redis://:cache-password@cache:6379/0",
            }
        },
        WAGTAIL_LTI={"ENCRYPTION_KEY": "lti-encryption-secret"},
    ):
        safe = SecretHidingExceptionReporterFilter().get_safe_settings()
    text = repr(safe)
    assert "cache-password" not in text
    assert "lti-encryption-secret" not in text
