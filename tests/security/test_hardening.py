"""Hardening: CSRF, framing, return URLs, secrets at rest, secrets in logs and error pages, and
request body limits. The malformed-input fuzzing of tool-facing endpoints is in test_fuzz.py.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.support.admin import provider_post, url
from tests.support.forms import input_value
from tests.support.hardening import (
    CSRF_EXEMPT,
    REDIRECT_URI,
    LogCapture,
    check_html_error,
    check_oauth2_error,
    check_oidc_error,
    check_pox_error,
    check_service_error,
    make_world,
    post_outcome,
    pox_request,
)
from tests.support.lti13 import JWT_BEARER
from wagtail_lti import urls as lti_urls
from wagtail_lti.services import results


pytestmark = pytest.mark.django_db


@pytest.fixture
def world(orgs, settings):
    settings.ALLOWED_HOSTS = ["testserver", "tool.example"]
    return make_world()


# --- CSRF ---------------------------------------------------------------------------------------

#: Public endpoints that keep CSRF protection (they take no POST from a tool).
CSRF_PROTECTED = {
    "lti13_jwks",
    "lti13_openid_configuration",
    "launch_return",
    # A reviewer's POST from this site's own pages (the results report, the course page).
    "review_submission",
    # The course page's own status requests (GET, same-origin only).
    "course_status",
    # The class view: an instructor's override form posts with the CSRF token.
    "class_view",
    "class_cell",
    # An editor's test launch (GET from the platform's own page) and its return URL.
    "test_launch",
    "test_launch_return",
    # A learner enrolling in a course that allows it (POST from the course page).
    "self_enroll",
}
#: Exempt from the middleware because the view runs Django's CSRF check itself, to answer a
#: learner with its own page (``wagtail_lti.launch.rules.check_launch_request``; see
#: tests/test_security_launch.py).
CSRF_CHECKED_IN_VIEW = {"launch"}


def is_csrf_exempt(callback) -> bool:
    return bool(getattr(callback, "csrf_exempt", False))


def test_csrf_exemption_of_every_public_url_is_on_the_allow_list():
    """Each pattern of ``wagtail_lti.urls`` is classified, and exempt exactly when tool-facing:
    a new endpoint must be added to one of the two lists above, on purpose."""
    names = {pattern.name: pattern.callback for pattern in lti_urls.urlpatterns}
    assert set(names) == CSRF_EXEMPT | CSRF_PROTECTED | CSRF_CHECKED_IN_VIEW, "classify it here"
    exempt = CSRF_EXEMPT | CSRF_CHECKED_IN_VIEW
    wrong = {name for name, view in names.items() if is_csrf_exempt(view) != (name in exempt)}
    assert not wrong


def _all_patterns(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _all_patterns(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def _module_of(callback) -> str:
    view_class = getattr(callback, "view_class", None)
    return (view_class or callback).__module__


def test_no_other_view_of_the_plugin_is_csrf_exempt():
    """Across the whole site (admin views registered by hooks and viewsets included), the only
    CSRF-exempt views of wagtail_lti are the tool-facing ones."""
    tool_facing = {
        p.callback for p in lti_urls.urlpatterns if p.name in CSRF_EXEMPT | CSRF_CHECKED_IN_VIEW
    }
    plugin_views = [
        (route, view)
        for route, view in _all_patterns(get_resolver())
        if _module_of(view).startswith("wagtail_lti")
    ]
    assert len(plugin_views) > len(lti_urls.urlpatterns)  # the admin views were found too
    exempt = [
        route for route, view in plugin_views if is_csrf_exempt(view) and view not in tool_facing
    ]
    assert exempt == []


def test_admin_form_post_without_csrf_token_is_refused_but_tool_post_is_not(superuser, world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    from wagtail_lti.models import LtiProvider, Organization

    before = LtiProvider.objects.count()
    response = client.post(
        url(LtiProvider, "add"), provider_post(Organization.objects.first(), secret="x")
    )
    assert response.status_code == 403
    assert LtiProvider.objects.count() == before

    # A tool's server posts without any cookie or CSRF token: answered by the endpoint itself.
    response = client.post(
        reverse("wagtail_lti:lti13_token"),
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    check_oauth2_error(response)


# --- Framing ------------------------------------------------------------------------------------

LMS = "https://lms.example.com"


def test_admin_cannot_be_framed_but_course_pages_can_where_configured(client, superuser, world):
    client.force_login(world.learner)
    lti = {"FRAME_ANCESTORS": [LMS]}
    with override_settings(WAGTAIL_LTI=lti):
        course = client.get(world.course.url)
        launch = client.post(reverse("wagtail_lti:launch", args=[world.placement11.lti_id]))
    for response in (course, launch):
        assert response.status_code == 200
        assert response.get("X-Frame-Options") is None
        assert response["Content-Security-Policy"] == f"frame-ancestors 'self' {LMS}"
    # Without the setting: this site only.
    assert client.get(world.course.url)["X-Frame-Options"] == "SAMEORIGIN"

    client.force_login(superuser)
    with override_settings(WAGTAIL_LTI=lti):
        for path in ("/admin/", "/admin/login/", url(type(world.provider11), "list")):
            response = client.get(path)
            assert response.status_code in (200, 302), path
            assert response["X-Frame-Options"] == "DENY", path
            assert LMS not in response.get("Content-Security-Policy", ""), path
        # Tool-facing JSON endpoints are not meant for frames either.
        response = client.get(reverse("wagtail_lti:lti13_jwks"))
        assert response["X-Frame-Options"] == "DENY"


# --- Return URLs --------------------------------------------------------------------------------

OFF_SITE = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "javascript:alert(1)",
    "https://testserver.evil.example/",
]


@pytest.mark.parametrize("target", OFF_SITE)
@pytest.mark.parametrize(
    "param", ["return_url", "next", "url", "redirect", "lti_msg", "launch_presentation_return_url"]
)
def test_return_url_never_redirects_off_site(client, world, param, target):
    """LTI 1.1 §B / Core 1.3 §6.1.2: the return URL goes back to the placement's course page,
    whatever the tool appends."""
    client.force_login(world.learner)
    path = reverse("wagtail_lti:launch_return", args=[world.placement11.lti_id])
    response = client.get(path, {param: target, "lti_errormsg": target})
    assert response.status_code == 302
    location = response["Location"]
    assert location == f"{world.course.url}#lti-activity-{world.placement11.block_id}"
    assert location.startswith("/") and not location.startswith(("//", "/\\"))

    # Inside the activity's iframe: a link that loads the same return URL in the top window.
    framed = client.get(path, {param: target}, headers={"Sec-Fetch-Dest": "iframe"})
    assert framed.status_code == 200
    hrefs = re.findall(r'href="([^"]*)"', framed.content.decode())
    top = [h for h in hrefs if "return" in h]
    assert top and all(h.startswith(path) for h in top), hrefs


def test_login_redirect_of_a_refused_launch_stays_on_site(client, world):
    path = reverse("wagtail_lti:launch", args=[world.placement11.lti_id])
    response = client.get(path, {"next": "https://evil.example/"})
    assert response.status_code in (401, 403)
    links = re.findall(r'href="([^"]*)"', response.content.decode())
    assert not [h for h in links if "evil.example" in h and not h.startswith("/")]


def test_oidc_errors_never_go_to_an_unregistered_redirect_uri(client, world):
    """OIDC Core §3.1.2.6 / checklist: an unknown redirect_uri gets an error page, no redirect."""
    response = client.get(
        reverse("wagtail_lti:lti13_authorize"),
        {
            "client_id": world.provider13.client_id,
            "redirect_uri": "https://evil.example/steal",
            "response_type": "nonsense",
        },
    )
    assert response.status_code == 400
    assert 'evil.example/steal"' not in response.content.decode().replace("&quot;", '"')
    assert "<form" not in response.content.decode()


# --- Secrets at rest ----------------------------------------------------------------------------


def database_dump() -> str:
    """Every row of every table, as text: what a stolen backup would show."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("latin-1")
                    chunks.append(str(value))
    return "\n".join(chunks)


def test_provider_secrets_and_platform_private_keys_are_encrypted_at_rest(client, superuser, world):
    """Raw columns hold Fernet tokens; neither the typed secret nor the private key appears in
    any table (revisions and admin logs included)."""
    from wagtail_lti.models import LtiProvider, Organization, PlatformKey
    from wagtail_lti.security.encryption import decrypt

    typed = "typed-in-the-admin-5e3cr3t"
    client.force_login(superuser)
    response = client.post(
        url(LtiProvider, "add"),
        provider_post(Organization.objects.first(), name="Typed", consumer_key="k", secret=typed),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    provider = LtiProvider.objects.get(name="Typed")
    assert client.get(reverse("wagtail_lti:lti13_jwks")).status_code == 200  # first keys
    call_command("lti_rotate_keys", "--force", stdout=open("/dev/null", "w"))  # noqa: SIM115

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret_encrypted FROM wagtail_lti_ltiprovider WHERE id = %s", [provider.pk]
        )
        (raw_secret,) = cursor.fetchone()
        cursor.execute("SELECT private_pem_encrypted FROM wagtail_lti_platformkey")
        raw_keys = [row[0] for row in cursor.fetchall()]
    assert raw_secret.startswith("gAAAAA") and decrypt(raw_secret) == typed
    assert len(raw_keys) >= 2
    pems = [decrypt(raw) for raw in raw_keys]
    assert all(
        "PRIVATE KEY" in pem and "PRIVATE KEY" not in raw
        for pem, raw in zip(pems, raw_keys, strict=True)
    )
    assert PlatformKey.objects.count() == len(raw_keys)

    dump = database_dump()
    assert typed not in dump
    assert world.secrets["LTI 1.1 secret"] not in dump
    assert "PRIVATE KEY" not in dump
    for pem in pems:
        body = [line for line in pem.splitlines() if line and "-----" not in line]
        assert not [line for line in body[1:-1] if line in dump]
    # Access tokens are stored hashed, too.
    assert world.access_token not in dump


# --- Secrets in logs and error pages ------------------------------------------------------------


def _assert_no_secret(text: str, secrets: dict[str, str]) -> None:
    leaked = [name for name, value in secrets.items() if value and value in text]
    assert not leaked, leaked


def test_no_secret_in_logs(client, world):
    """Launches, outcomes, the token endpoint and AGS, good and refused, logged at DEBUG level:
    no provider secret, platform private key, access token, client assertion or message hint."""
    from wagtail_lti.models import PendingLaunch, PlatformKey
    from wagtail_lti.security.encryption import decrypt

    secrets = dict(world.secrets)
    with LogCapture() as logs:
        client.force_login(world.learner)
        launch = client.post(reverse("wagtail_lti:launch", args=[world.placement11.lti_id]))
        assert launch.status_code == 200
        launch13 = client.post(reverse("wagtail_lti:launch", args=[world.placement13.lti_id]))
        secrets["message hint"] = input_value(launch13, "lti_message_hint")
        # Outcomes: accepted, then replayed-looking bad signature.
        ok = post_outcome(client, pox_request("replaceResult", world.sourcedid(), "0.5"))
        assert b"success" in ok.content
        bad = post_outcome(
            client, pox_request("replaceResult", world.sourcedid(), "0.5"), secret="wrong"
        )
        assert bad.status_code == 401
        # Token endpoint: good, replayed and badly signed assertions.
        assertion = world.tool.assertion()
        secrets["client assertion"] = assertion
        for _ in range(2):
            client.post(
                reverse("wagtail_lti:lti13_token"),
                {
                    "grant_type": "client_credentials",
                    "client_assertion_type": JWT_BEARER,
                    "client_assertion": assertion,
                    "scope": "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                },
            )
        # AGS with a good and a bad token.
        for headers in (world.bearer, {"Authorization": "Bearer not-" + world.access_token}):
            client.get(world.results_path, headers=headers)
        # The 1.3 authorization endpoint refusing the hint for another user.
        client.logout()
        client.get(
            reverse("wagtail_lti:lti13_authorize"),
            {
                "client_id": world.provider13.client_id,
                "redirect_uri": REDIRECT_URI,
                "response_type": "id_token",
                "response_mode": "form_post",
                "scope": "openid",
                "nonce": "n",
                "state": "s",
                "login_hint": "x",
                "lti_message_hint": secrets["message hint"],
                "wagtail_lti_repost": "window",
            },
        )
    assert PendingLaunch.objects.exists()
    for key in PlatformKey.objects.all():
        pem = decrypt(key.private_pem_encrypted)
        secrets[f"private key {key.kid}"] = pem.splitlines()[2]
    assert len(logs.lines) > 3  # something was logged
    _assert_no_secret(logs.text, secrets)


@pytest.fixture
def debug_client(settings):
    settings.DEBUG = True
    return Client(raise_request_exception=False)


def test_no_secret_on_the_debug_error_page_of_outcomes(debug_client, world, monkeypatch):
    """A database failure while the nonce is stored, after the signature was checked with the
    provider's secret: the DEBUG page lists every frame's variables, none holds the secret."""

    def broken(*args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr("wagtail_lti.security.lti11_requests.use_once", broken)
    with LogCapture() as logs:
        response = post_outcome(debug_client, pox_request("readResult", world.sourcedid()))
    assert response.status_code == 500
    page = response.content.decode()
    assert "the database went away" in page and "verify_request" in page  # the frames are shown
    _assert_no_secret(page, world.secrets)
    _assert_no_secret(logs.text, world.secrets)


def test_no_access_token_on_the_debug_error_page_of_ags(debug_client, world, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(results, "record_score", broken)
    from wagtail_lti.security.identifiers import opaque_user_id

    with LogCapture() as logs:
        response = debug_client.post(
            world.scores_path,
            {
                "userId": opaque_user_id(world.learner),
                "scoreGiven": 1,
                "scoreMaximum": 10,
                "activityProgress": "Completed",
                "gradingProgress": "FullyGraded",
                "timestamp": "2024-01-01T00:00:00Z",
            },
            content_type="application/vnd.ims.lis.v1.score+json",
            headers=world.bearer,
        )
    assert response.status_code == 500
    page = response.content.decode()
    assert "the database went away" in page and "HTTP_AUTHORIZATION" in page
    _assert_no_secret(page, world.secrets)
    _assert_no_secret(logs.text, world.secrets)


def test_no_secret_in_the_error_report_sent_to_admins(world, monkeypatch, settings, mailoutbox):
    """DEBUG off: the e-mailed error report (Django's AdminEmailHandler) hides them too."""
    import logging

    from django.utils.log import AdminEmailHandler

    settings.DEBUG = False
    settings.ADMINS = [("Admin", "admin@example.com")]

    def broken(*args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr("wagtail_lti.security.lti11_requests.use_once", broken)
    handler = AdminEmailHandler(include_html=True)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = post_outcome(
            Client(raise_request_exception=False), pox_request("readResult", world.sourcedid())
        )
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 500
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    report = message.body + "".join(alt[0] for alt in getattr(message, "alternatives", []))
    assert "the database went away" in report
    _assert_no_secret(report, world.secrets)


# --- Request body limits ------------------------------------------------------------------------

LIMIT = 4096


def limited(settings):
    return override_settings(WAGTAIL_LTI={**settings.WAGTAIL_LTI, "MAX_REQUEST_BODY": LIMIT})


def test_outcomes_refuses_a_body_over_the_limit(client, world, settings):
    padding = "x" * LIMIT
    body = pox_request("replaceResult", world.sourcedid() + padding, "0.5")
    with limited(settings):
        response = post_outcome(client, body)
    assert response.status_code == 413
    check_pox_error(response)


def test_token_endpoint_refuses_a_body_over_the_limit(client, world, settings):
    with limited(settings):
        response = client.post(
            reverse("wagtail_lti:lti13_token"),
            "grant_type=client_credentials&scope=" + "x" * LIMIT,
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code in (400, 413)
    check_oauth2_error(response)


@pytest.mark.parametrize(
    ("path", "method", "content_type"),
    [
        ("lineitems_path", "post", "application/vnd.ims.lis.v2.lineitem+json"),
        ("lineitem_path", "put", "application/vnd.ims.lis.v2.lineitem+json"),
        ("scores_path", "post", "application/vnd.ims.lis.v1.score+json"),
    ],
)
def test_ags_refuses_a_body_over_the_limit(client, world, settings, path, method, content_type):
    from wagtail_lti.models import LineItem, Result

    body = '{"label": "' + "x" * LIMIT + '", "scoreMaximum": 10}'
    before = (LineItem.objects.count(), Result.objects.count())
    with limited(settings):
        response = getattr(client, method)(
            getattr(world, path), body, content_type=content_type, headers=world.bearer
        )
    assert response.status_code == 413
    check_service_error(response)
    assert (LineItem.objects.count(), Result.objects.count()) == before


def test_authorization_endpoint_refuses_a_body_over_the_limit(client, world, settings):
    with limited(settings):
        response = client.post(
            reverse("wagtail_lti:lti13_authorize"),
            {
                "client_id": world.provider13.client_id,
                "redirect_uri": REDIRECT_URI,
                "state": "s" * LIMIT,
            },
        )
    assert response.status_code == 413
    check_oidc_error(response)


@pytest.mark.parametrize("name", ["lti13_deep_linking_return", "lti11_content_item_return"])
def test_content_selection_answers_refuse_a_body_over_the_limit(client, world, settings, name):
    client.force_login(world.learner)
    with limited(settings):
        response = client.post(
            reverse(f"wagtail_lti:{name}"),
            urlencode({"JWT": "x" * LIMIT, "lti_message_type": "ContentItemSelection"}),
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code == 413
    check_html_error(response)
