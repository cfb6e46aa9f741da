"""The one settings object of wagtail-lti.

Site developers configure the plugin with a single ``WAGTAIL_LTI`` dictionary in their Django
settings. Every key is optional; ``DEFAULTS`` below documents each one (see also
``docs/settings.md``). Code reads settings only through ``lti_settings``::

    from wagtail_lti.conf import lti_settings

    lti_settings.LAUNCH_TOKEN_TTL

The object re-reads ``settings.WAGTAIL_LTI`` when Django's ``setting_changed`` signal fires, so
``override_settings(WAGTAIL_LTI={...})`` works in tests.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed


DEFAULTS: dict[str, Any] = {
    # --- Identity of this platform, sent to tools (LTI 1.1 tool_consumer_*, LTI 1.3 tool_platform).
    # A stable, globally unique identifier of this platform instance. Empty means "derive from the
    # site's hostname at request time".
    "PLATFORM_GUID": "",
    "PLATFORM_NAME": "Wagtail LTI",  # the platform's name, which tools may show
    "PLATFORM_DESCRIPTION": "",  # a longer description of the platform; empty: not sent
    "PLATFORM_CONTACT_EMAIL": "",  # whom tool vendors contact about this platform; empty: not sent
    "PLATFORM_URL": "",  # the platform's home page URL; empty: the site's root URL
    "PRODUCT_FAMILY_CODE": "wagtail-lti",  # the platform software's product code
    "PRODUCT_VERSION": "0.1.0",  # the platform software's version
    # --- LTI 1.3 issuer: an https URL without query or fragment. Empty means the site's root URL
    # (scheme + host of the request), which is what most single-site deployments want.
    "ISSUER": "",
    # --- Secrets at rest. Provider secrets and platform private keys are encrypted with a key
    # derived from this value; empty means Django's SECRET_KEY. Changing it makes stored secrets
    # unreadable, so set it once per site (see docs/production.md).
    "ENCRYPTION_KEY": "",
    # --- LTI 1.1 OAuth 1.0a checks on requests from tools (Basic Outcomes, Content-Item):
    # accepted clock difference, in seconds, between the tool's oauth_timestamp and ours.
    "OAUTH_TIMESTAMP_WINDOW": 300,
    # --- LTI 1.3 lifetimes, in seconds.
    "LAUNCH_TOKEN_TTL": 300,  # id_token exp - iat
    "IAT_BACKDATE": 5,  # iat is set this many seconds in the past (tools reject a future iat)
    "MESSAGE_HINT_TTL": 300,  # how long a started launch (lti_message_hint) stays usable
    # Seconds a process keeps what launches read about a placement (its resource link, provider,
    # course and their availability; wagtail_lti.launch.targets). Every change made through Django
    # is seen at once by all processes sharing the cache; this bounds changes made behind Django's
    # back (QuerySet.update(), SQL). 0: read it from the database on every launch.
    "LAUNCH_TARGET_CACHE_SECONDS": 300,
    # How long an editor's "select content from the tool" (Deep Linking, Content-Item) waits for
    # the tool's answer: the time the editor has to choose in the tool.
    "CONTENT_SELECTION_TTL": 3600,
    "ACCESS_TOKEN_TTL": 3600,  # OAuth 2 access tokens from the token endpoint
    # Seconds a tool's clock may differ from ours: leeway on exp/iat of tools' JWTs, and how far
    # ahead of our clock an AGS score timestamp may be (a later one is refused).
    "CLIENT_ASSERTION_LEEWAY": 60,
    # Seconds, in all, to fetch a tool's JWKS URL: connecting, TLS, headers and body together.
    "JWKS_FETCH_TIMEOUT": 5,
    "JWKS_CACHE_TTL": 3600,  # seconds a tool's fetched JWKS is cached
    "JWKS_MAX_AGE": 3600,  # Cache-Control max-age of our JWKS endpoint
    "KEY_ROTATION_OVERLAP_DAYS": 7,  # retired keys stay published this long
    # --- Limits on tool-facing endpoints.
    # Largest request body, in bytes, any endpoint reads (token, AGS, Basic Outcomes, registration,
    # authorization, content selection answers): a larger declared Content-Length is refused
    # before the body is read, a larger body once read, and a Content-Length that is not a number
    # too; each endpoint answers in its own protocol (``wagtail_lti.security.request_body``).
    "MAX_REQUEST_BODY": 256 * 1024,
    "PAGE_SIZE_LIMIT": 100,  # largest page of line items, results or members
    # Most line items one tool may have in one course (AGS): creating one more is refused with
    # 409 and nothing is created. The platform's own (one per graded activity) count too.
    "MAX_LINE_ITEMS_PER_COURSE_TOOL": 1000,
    # --- Launch log (Reports → LTI launch log): days a launch or service call stays in the log
    # before ``manage.py lti_cleanup`` deletes it. 0 turns the log off.
    "LAUNCH_LOG_RETENTION_DAYS": 90,
    # Rows one caller (client IP address) may add to the launch log per minute for each kind of
    # refused request made without a signed-in person (unknown clients, bad signatures or tokens),
    # counted in the shared cache (``CACHE_ALIAS``); one more row then says that the caller's further
    # refusals of that minute are not recorded. 0: no limit.
    "LAUNCH_LOG_REFUSALS_PER_MINUTE": 30,
    # --- LTI Dynamic Registration ("Register a tool by URL" on the LTI providers listing).
    # Seconds a registration token stays usable: the time the editor has to finish in the tool.
    "REGISTRATION_TOKEN_TTL": 1800,
    # Accept plain http URLs on localhost / 127.0.0.1 in registrations (development and tests);
    # they are also accepted whenever Django's DEBUG is on. Everything else must be https.
    "REGISTRATION_ALLOW_LOCAL_HTTP": False,
    # --- Outbound requests: every request the platform makes to another server (tools' JWKS URLs).
    # Allow connections to loopback, private, link-local and reserved addresses, and plain http
    # URLs: only for development sites and tests, whose tools run on the same machine or network.
    # Otherwise the platform connects over https to public addresses only (docs/production.md).
    "OUTBOUND_ALLOW_LOCAL": False,
    # Seconds a failed outbound request is remembered in the cache CACHE_ALIAS: the same request
    # fails at once until then, without reaching the server. 0: not remembered.
    "OUTBOUND_FAILURE_CACHE_SECONDS": 60,
    # --- Platform Notification Service: notices to tools' handlers (docs/production.md).
    # Attempts in all to deliver one notice before it is given up (the first one included).
    # Notices are queued in the database with the change they tell of and sent by the worker.
    "NOTICE_DELIVERY_ATTEMPTS": 5,
    # Seconds before the first retry of a failed delivery; each further retry waits twice as
    # long, up to NOTICE_RETRY_MAX_DELAY.
    "NOTICE_RETRY_DELAY": 60,
    "NOTICE_RETRY_MAX_DELAY": 3600,  # the longest wait, in seconds, between two attempts
    # Seconds, in all, one delivery attempt may take (connecting, sending, the handler's answer).
    "NOTICE_DELIVERY_TIMEOUT": 10,
    # Bytes of a handler's answer read (and the first 2000 characters kept to show editors).
    "NOTICE_MAX_RESPONSE_BYTES": 64 * 1024,
    # Seconds a notice JWT is valid (exp - iat).
    "NOTICE_TOKEN_TTL": 3600,
    # The TASKS backend alias whose worker delivers notices.
    "NOTICE_TASK_BACKEND": "default",
    "NOTICE_TASK_QUEUE": "default",  # that backend's queue for the delivery tasks
    # --- Content from tools in pages ("Insert from a tool" in rich text, the "Tool content" block).
    # Media types of the files a tool may return (``type/*`` allowed); the platform fetches each
    # file and keeps it as a Wagtail document (an image/* one as a Wagtail image). Empty: tools
    # are not offered files.
    "TOOL_CONTENT_FILE_MEDIA_TYPES": [
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "text/plain",
        "text/csv",
    ],
    # Largest file, in bytes, fetched from a tool; a larger one is refused with a message.
    "TOOL_CONTENT_MAX_FILE_BYTES": 10 * 1024 * 1024,
    # Seconds, in all, to fetch one file from a tool.
    "TOOL_CONTENT_FETCH_TIMEOUT": 20,
    # Import the images a tool returns into Wagtail's image library (fetched like files) instead
    # of showing them from the tool's URL.
    "TOOL_CONTENT_IMPORT_IMAGES": False,
    # --- Bulk enrollment (Courses → Enrollments → "Enroll many"): the largest CSV file accepted,
    # in bytes. A larger file is refused with a message, nothing enrolled.
    "BULK_ENROLLMENT_MAX_BYTES": 1024 * 1024,
    # The most people (lines of the pasted list and the CSV file, members of the chosen
    # organization) one bulk enrollment may enroll at once; more is refused, nothing enrolled.
    "BULK_ENROLLMENT_MAX_ROWS": 5000,
    # --- Presentation.
    "IFRAME_HEIGHT": 600,  # default height, in pixels, of embedded activities
    # The site's base template that the page of a refused launch (not enrolled, tool disabled...)
    # extends when the browser shows it in a window of its own (Sec-Fetch-Dest: document), so it
    # carries the site's header and styles. It
    # must have the blocks "title" and "content" (and may have "extra_css", where the page adds
    # its stylesheet). Inside an activity's frame, and when the template does not exist or this
    # is empty, it uses wagtail-lti's own plain page (wagtail_lti.launch.pages).
    "PAGE_BASE_TEMPLATE": "base.html",
    # --- Framing (wagtail_lti.courses.framing).
    # Origins such as "https://lms.example.com" that may show course pages and the launch pages in
    # a frame, besides this site itself. Empty: only this site. Every other page, the admin
    # included, keeps Django's X-Frame-Options: DENY.
    "FRAME_ANCESTORS": [],
    # --- The cache alias used for non-security caches (tool JWKS, outbound failures). Single-use
    # values (nonces, message hints, jti) are always kept in the database, shared by all processes.
    "CACHE_ALIAS": "default",
}


class LtiSettings:
    """Attribute access to ``settings.WAGTAIL_LTI`` merged over ``DEFAULTS``."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        user = getattr(settings, "WAGTAIL_LTI", {}) or {}
        unknown = set(user) - set(DEFAULTS)
        if unknown:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(
                f"Unknown WAGTAIL_LTI setting(s): {', '.join(sorted(unknown))}"
            )
        merged = dict(DEFAULTS)
        merged.update(user)
        return merged

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._cache is None:
            self._cache = self._load()
        try:
            return self._cache[name]
        except KeyError:
            raise AttributeError(f"Unknown wagtail-lti setting {name!r}") from None

    def reload(self) -> None:
        self._cache = None


lti_settings = LtiSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "WAGTAIL_LTI":
        lti_settings.reload()


setting_changed.connect(_reload)
