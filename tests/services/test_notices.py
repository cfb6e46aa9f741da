"""Platform Notification Service 1.0 (1EdTech LTI PNS 1.0), with real counterparts.

* The tool is PyLTI1p3: it launches (the service claim, PNS §3.1 "platformnotificationservice"
  claim), gets a token at our token endpoint with its signed client assertion (scope
  ``noticehandlers``), then PUTs/GETs its handlers at the service URL the claim names (PNS §3.2).
* The handler is a local HTTP server on 127.0.0.1 that receives ``{"notices": [{"jwt": ...}]}``
  (PNS §4); each JWT is verified with the keys our JWKS endpoint publishes (PyJWT), its ``aud``
  the tool's client id, its ``iss`` the platform.
* Delivery runs on the task engine: the immediate backend of django-tasks in most tests, the
  database backend and its ``db_worker`` command in one (the default of the example site).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from jwt import PyJWKSet
from pylti1p3.service_connector import ServiceConnector

from tests.launch.test_lti13_launch import (  # noqa: F401 - fixtures
    ISSUER,
    full_launch,
    tool_keys,
    world,
)
from tests.tooling.requests_adapter import routed_session
from wagtail_lti.lti import notices as protocol
from wagtail_lti.models import LaunchLogEntry, NoticeDelivery, NoticeHandler
from wagtail_lti.security.identifiers import context_id
from wagtail_lti.services import notices as service


pytestmark = pytest.mark.django_db

IMMEDIATE_BACKEND = {"BACKEND": settings.TASKS_IMMEDIATE_BACKEND}
IMMEDIATE = {"default": IMMEDIATE_BACKEND, "wagtail_lti": IMMEDIATE_BACKEND}
DELIVER = "wagtail_lti.services.notices.deliver_notice"


# --- A tool's notice handler: a local HTTP server ---------------------------------------------------


class HandlerServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.bodies: list[bytes] = []
        self.status = 200
        self.answer = b'{"message": "Hello from the tool"}'
        self.delay = 0.0
        #: Optional: makes the answer from the request body (a tool that reads the notice).
        self.respond = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/notices/"


class Handler(BaseHTTPRequestHandler):
    server: HandlerServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.server.bodies.append(self.rfile.read(length))
        if self.server.delay:
            time.sleep(self.server.delay)
        answer = self.server.answer
        if self.server.respond is not None:
            try:
                answer = self.server.respond(self.server.bodies[-1])
            except Exception as exc:  # noqa: BLE001 - the tool refuses the notice
                self.server.status, answer = 400, str(exc).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def handler_server():
    server = HandlerServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = IMMEDIATE


def published_keys(client) -> PyJWKSet:
    """The platform's keys as its JWKS endpoint publishes them."""
    return PyJWKSet.from_dict(client.get(reverse("wagtail_lti:lti13_jwks")).json())


def received_notices(server: HandlerServer, client, audience: str, issuer: str = ISSUER):
    """Every notice the handler received, verified with the published keys."""
    keys = published_keys(client)
    notices = []
    for body in server.bodies:
        for item in json.loads(body)["notices"]:
            kid = jwt.get_unverified_header(item["jwt"])["kid"]
            notices.append(
                jwt.decode(
                    item["jwt"],
                    keys[kid].key,
                    algorithms=["RS256"],
                    audience=audience,
                    issuer=issuer,
                    options={"require": ["exp", "iat", "jti", "aud", "iss"]},
                )
            )
    return notices


def tool_connector(world, session=None) -> ServiceConnector:  # noqa: F811
    conf = world.tool_conf()
    registration = conf.find_registration_by_params(ISSUER, world.provider.client_id)
    return ServiceConnector(registration, requests_session=session or routed_session(ISSUER))


def register(world, url: str, notice_type: str, session=None):  # noqa: F811
    """The tool PUTs its handler, with a token PyLTI1p3 obtained for the noticehandlers scope."""
    token = tool_connector(world).get_access_token([protocol.SCOPE])
    session = session or routed_session(ISSUER)
    return session.put(
        ISSUER + reverse("wagtail_lti:pns_handlers", args=[world.provider.pk]),
        json={"notice_type": notice_type, "handler": url},
        headers={"Authorization": f"Bearer {token}"},
    )


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def notice_log():
    return list(
        LaunchLogEntry.objects.filter(kind=LaunchLogEntry.Kind.NOTICE).order_by("created_at", "pk")
    )


# --- The protocol core (pure) -----------------------------------------------------------------------


def test_service_claim_and_notice_claims():
    """PNS §3.1: the claim's members; §4.1: a notice's claims."""
    claim = protocol.service_claim("https://p.example/lti/1.3/pns/1/")[protocol.PNS_CLAIM]
    assert claim == {
        "platform_notification_service_url": "https://p.example/lti/1.3/pns/1/",
        "service_versions": ["1.0"],
        "scope": ["https://purl.imsglobal.org/spec/lti/scope/noticehandlers"],
        "notice_types_supported": ["LtiHelloWorldNotice", "LtiContextCopyNotice"],
    }
    claims = protocol.notice_claims(
        issuer="https://p.example",
        client_id="c1",
        deployment_id="d1",
        notice_type="LtiHelloWorldNotice",
        notice_id="n1",
        timestamp="2026-01-01T00:00:00Z",
        jti="j1",
        now=100,
        ttl=60,
    )
    assert claims["aud"] == "c1" and claims["iat"] == 100 and claims["exp"] == 160
    assert claims[protocol.DEPLOYMENT_ID_CLAIM] == "d1"
    assert claims[protocol.NOTICE_CLAIM] == {
        "id": "n1",
        "timestamp": "2026-01-01T00:00:00Z",
        "type": "LtiHelloWorldNotice",
    }


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"handler": "https://t.example/"}',
        b'{"notice_type": "LtiUnknownNotice", "handler": "https://t.example/"}',
        b'{"notice_type": "LtiHelloWorldNotice"}',
        b'{"notice_type": "LtiHelloWorldNotice", "handler": 3}',
        b"[" * 100_000,  # nested too deep for the JSON parser: refused, not a crash
    ],
)
def test_bad_handler_requests_are_refused(body):
    with pytest.raises(protocol.NoticeError):
        protocol.parse_handler_request(body)


def test_retry_delay_doubles_up_to_the_maximum(settings):
    settings.WAGTAIL_LTI = {
        **settings.WAGTAIL_LTI,
        "NOTICE_RETRY_DELAY": 10,
        "NOTICE_RETRY_MAX_DELAY": 50,
    }
    assert [service.retry_delay(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 50]


# --- The launch claim, the OpenID configuration and the service, with PyLTI1p3 -------------------


def test_pylti1p3_tool_registers_lists_and_removes_its_handlers(world, handler_server):  # noqa: F811
    """PNS §3.1 claim in the launch; §3.2 handler registration with a noticehandlers token."""
    _init, _form, message_launch = full_launch(world)
    claim = message_launch.get_launch_data()[protocol.PNS_CLAIM]
    service_url = ISSUER + reverse("wagtail_lti:pns_handlers", args=[world.provider.pk])
    assert claim == {
        "platform_notification_service_url": service_url,
        "service_versions": ["1.0"],
        "scope": [protocol.SCOPE],
        "notice_types_supported": ["LtiHelloWorldNotice", "LtiContextCopyNotice"],
    }

    connector = tool_connector(world)
    token = connector.get_access_token([protocol.SCOPE])
    session = routed_session(ISSUER)
    auth = {"Authorization": f"Bearer {token}"}
    put = session.put(
        claim["platform_notification_service_url"],
        json={"notice_type": "LtiHelloWorldNotice", "handler": handler_server.url},
        headers=auth,
    )
    assert put.status_code == 200, put.text
    assert put.json() == {"notice_type": "LtiHelloWorldNotice", "handler": handler_server.url}

    listed = session.get(service_url, headers=auth).json()
    assert listed == {
        "client_id": world.provider.client_id,
        "deployment_id": world.provider.deployment_id,
        "notice_handlers": [
            {"notice_type": "LtiHelloWorldNotice", "handler": handler_server.url},
            {"notice_type": "LtiContextCopyNotice", "handler": ""},
        ],
    }
    removed = session.put(
        service_url, json={"notice_type": "LtiHelloWorldNotice", "handler": ""}, headers=auth
    )
    assert removed.status_code == 200
    assert not NoticeHandler.objects.filter(provider=world.provider).exists()
    actions = [e.action for e in notice_log()]
    assert "PUT notice handler LtiHelloWorldNotice" in actions
    assert "PUT notice handler LtiHelloWorldNotice (removed)" in actions


def test_openid_configuration_lists_the_notice_types(client):
    config = client.get(reverse("wagtail_lti:lti13_openid_configuration")).json()
    platform = config["https://purl.imsglobal.org/spec/lti-platform-configuration"]
    assert platform["notice_types_supported"] == ["LtiHelloWorldNotice", "LtiContextCopyNotice"]
    assert protocol.SCOPE in config["scopes_supported"]


def test_the_service_refuses_what_it_must(world, settings):  # noqa: F811
    """No token: 401; another provider's URL: 404; a private address: 400, nothing stored."""
    session = routed_session(ISSUER)
    url = ISSUER + reverse("wagtail_lti:pns_handlers", args=[world.provider.pk])
    body = {"notice_type": "LtiHelloWorldNotice", "handler": "https://tool.example/n"}
    assert session.put(url, json=body).status_code == 401

    token = tool_connector(world).get_access_token([protocol.SCOPE])
    auth = {"Authorization": f"Bearer {token}"}
    other = ISSUER + reverse("wagtail_lti:pns_handlers", args=[world.provider.pk + 1000])
    assert session.get(other, headers=auth).status_code == 404

    bad_type = session.put(url, json={**body, "notice_type": "LtiNope"}, headers=auth)
    assert bad_type.status_code == 400 and "LtiNope" in bad_type.json()["error_description"]

    settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, "OUTBOUND_ALLOW_LOCAL": False}
    private = session.put(url, json={**body, "handler": "https://10.0.0.5/n"}, headers=auth)
    assert private.status_code == 400
    assert "refused" in private.json()["error_description"]
    plain = session.put(url, json={**body, "handler": "http://tool.example/n"}, headers=auth)
    assert plain.status_code == 400
    assert not NoticeHandler.objects.exists()


# --- LtiHelloWorldNotice: the admin's button --------------------------------------------------------


def test_hello_world_button_sends_a_signed_notice_and_shows_the_answer(
    world,  # noqa: F811
    superuser,
    handler_server,
    immediate_tasks,
    django_capture_on_commit_callbacks,
):
    """PNS §4: POST {"notices": [{"jwt"}]}, the JWT signed with the platform's published key."""
    assert register(world, handler_server.url, "LtiHelloWorldNotice").status_code == 200
    editor = admin_client(superuser)
    page = reverse("wagtail_lti_provider_notices", args=[world.provider.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post(page)
    assert response.status_code == 302

    notices = received_notices(handler_server, editor, audience=world.provider.client_id)
    assert len(notices) == 1
    notice = notices[0]
    delivery = NoticeDelivery.objects.get()
    assert notice[protocol.NOTICE_CLAIM]["type"] == "LtiHelloWorldNotice"
    assert notice[protocol.NOTICE_CLAIM]["id"] == str(delivery.notice_id)
    assert notice[protocol.DEPLOYMENT_ID_CLAIM] == world.provider.deployment_id
    assert notice[protocol.VERSION_CLAIM] == "1.3.0"
    assert notice["exp"] > notice["iat"] and notice["jti"]

    assert delivery.status == NoticeDelivery.Status.DELIVERED and delivery.attempts == 1
    shown = editor.get(page).content.decode()
    assert "Hello from the tool" in shown and "Delivered" in shown
    assert [e.action for e in notice_log()][-2:] == [
        "LtiHelloWorldNotice queued",
        "LtiHelloWorldNotice delivered (attempt 1)",
    ]


def test_hello_world_without_a_handler_says_so(world, superuser):  # noqa: F811
    editor = admin_client(superuser)
    page = reverse("wagtail_lti_provider_notices", args=[world.provider.pk])
    response = editor.post(page, follow=True)
    assert "has not registered a handler" in response.content.decode()
    assert not NoticeDelivery.objects.exists()


def test_the_notices_page_is_for_who_may_edit_the_provider(world, make_editor, orgs):  # noqa: F811
    outsider = make_editor("outsider", orgs["partner"])
    response = admin_client(outsider).get(
        reverse("wagtail_lti_provider_notices", args=[world.provider.pk])
    )
    assert response.status_code == 404


def test_the_editors_request_does_not_wait_for_the_tool(world, superuser, handler_server):  # noqa: F811
    """With the database backend (the default), the button only queues: nothing is sent."""
    register(world, handler_server.url, "LtiHelloWorldNotice")
    from django_tasks_db.models import DBTaskResult

    editor = admin_client(superuser)
    page = reverse("wagtail_lti_provider_notices", args=[world.provider.pk])
    with transaction.atomic():
        editor.post(page)
    # The test's transaction is still open: the task is enqueued on commit only.
    assert NoticeDelivery.objects.get().status == NoticeDelivery.Status.QUEUED
    assert handler_server.bodies == []
    assert not DBTaskResult.objects.filter(task_path=DELIVER).exists()


def test_nothing_is_queued_for_a_change_rolled_back(world, handler_server):  # noqa: F811
    register(world, handler_server.url, "LtiHelloWorldNotice")
    with pytest.raises(RuntimeError), transaction.atomic():
        service.queue_notice(world.provider, "LtiHelloWorldNotice", issuer=ISSUER)
        raise RuntimeError
    assert not NoticeDelivery.objects.exists()


# --- A handler that is down -------------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["503", "slow"])
def test_a_handler_down_is_retried_then_given_up_all_in_the_launch_log(
    world,  # noqa: F811
    handler_server,
    immediate_tasks,
    settings,
    django_capture_on_commit_callbacks,
    failure,
):
    settings.WAGTAIL_LTI = {
        **settings.WAGTAIL_LTI,
        "NOTICE_DELIVERY_ATTEMPTS": 3,
        "NOTICE_DELIVERY_TIMEOUT": 0.5,
    }
    if failure == "503":
        handler_server.status = 503
    else:
        handler_server.delay = 1.5
    register(world, handler_server.url, "LtiHelloWorldNotice")
    with django_capture_on_commit_callbacks(execute=True):
        service.queue_notice(world.provider, "LtiHelloWorldNotice", issuer=ISSUER)

    delivery = NoticeDelivery.objects.get()
    assert delivery.status == NoticeDelivery.Status.GIVEN_UP
    assert delivery.attempts == 3 and len(handler_server.bodies) == 3
    expected = "Answered HTTP 503." if failure == "503" else "No complete answer"
    assert delivery.last_error.startswith(expected)
    log = [e for e in notice_log() if not e.action.startswith("PUT ")]
    assert [e.action for e in log] == [
        "LtiHelloWorldNotice queued",
        "LtiHelloWorldNotice attempt 1 of 3 failed, retry in 60 s",
        "LtiHelloWorldNotice attempt 2 of 3 failed, retry in 120 s",
        "LtiHelloWorldNotice given up after 3 attempts",
    ]
    assert all(e.outcome == "error" and e.error.startswith(expected) for e in log[1:])
    # Each attempt was a new JWT of the same notice.
    notices = received_notices(handler_server, Client(), audience=world.provider.client_id)
    assert len({n["jti"] for n in notices}) == 3
    assert len({n[protocol.NOTICE_CLAIM]["id"] for n in notices}) == 1


def test_a_failed_attempt_is_deferred_on_the_database_backend(world, handler_server):  # noqa: F811
    """The retry is a task that runs after the backoff delay (``run_after``), not at once."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    handler_server.status = 500
    register(world, handler_server.url, "LtiHelloWorldNotice")
    delivery = service.queue_notice(world.provider, "LtiHelloWorldNotice", issuer=ISSUER)
    assert service.attempt_delivery(delivery.pk) == NoticeDelivery.Status.RETRYING
    retry = DBTaskResult.objects.get(task_path=DELIVER)
    wait = (retry.run_after - timezone.now()).total_seconds()
    assert 50 < wait <= 60
    assert retry.args_kwargs["args"] == [delivery.pk]


# --- The database backend's worker ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_db_worker_delivers_the_queued_notice(orgs, handler_server):
    """The example site's default: django-tasks' database backend, sent by ``db_worker``."""
    from tests.support.lti13 import make_tool

    tool = make_tool(orgs["acme"], name="Notice tool")
    service.set_handler(tool.provider, "LtiHelloWorldNotice", handler_server.url)
    with transaction.atomic():
        delivery = service.queue_notice(tool.provider, "LtiHelloWorldNotice", issuer=ISSUER)
    assert handler_server.bodies == []
    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", "--backend", "wagtail_lti"
    )
    delivery.refresh_from_db()
    assert delivery.status == NoticeDelivery.Status.DELIVERED
    notices = received_notices(handler_server, Client(), audience=tool.provider.client_id)
    assert [n[protocol.NOTICE_CLAIM]["type"] for n in notices] == ["LtiHelloWorldNotice"]


# --- LtiContextCopyNotice: copying a course page ----------------------------------------------------


def test_copying_a_course_in_the_admin_notifies_its_tools(
    world,  # noqa: F811
    superuser,
    handler_server,
    immediate_tasks,
    django_capture_on_commit_callbacks,
):
    """PNS §5 (LtiContextCopyNotice): the new context and ``origin_contexts`` [the original]."""
    assert register(world, handler_server.url, "LtiContextCopyNotice").status_code == 200
    original = world.course
    editor = admin_client(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post(
            reverse("wagtailadmin_pages:copy", args=[original.pk]),
            {
                "new_title": "Safety at work (next term)",
                "new_slug": "safety-next-term",
                "new_parent_page": original.get_parent().pk,
                "copy_subpages": False,
                "publish_copies": False,
                "alias": False,
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    copy = type(original).objects.get(slug="safety-next-term")
    issuer = service.default_issuer(copy)
    notices = received_notices(
        handler_server, editor, audience=world.provider.client_id, issuer=issuer
    )
    assert len(notices) == 1
    notice = notices[0]
    assert notice[protocol.NOTICE_CLAIM]["type"] == "LtiContextCopyNotice"
    assert notice[protocol.CONTEXT_CLAIM]["id"] == context_id(copy) != context_id(original)
    assert notice[protocol.CONTEXT_CLAIM]["title"] == "Safety at work (next term)"
    assert notice[protocol.ORIGIN_CONTEXTS_CLAIM] == [context_id(original)]
    assert notice[protocol.DEPLOYMENT_ID_CLAIM] == world.provider.deployment_id
    entry = notice_log()[-1]
    assert entry.action == "LtiContextCopyNotice delivered (attempt 1)"
    assert entry.course_id == copy.pk


def test_a_copy_notifies_only_tools_with_a_handler(world, immediate_tasks):  # noqa: F811
    world.course.copy(update_attrs={"slug": "copy-without-handler", "title": "Copy"})
    assert not NoticeDelivery.objects.exists()


def test_a_token_without_the_noticehandlers_scope_is_refused(world):  # noqa: F811
    token = tool_connector(world).get_access_token(
        ["https://purl.imsglobal.org/spec/lti-ags/scope/score"]
    )
    response = routed_session(ISSUER).get(
        ISSUER + reverse("wagtail_lti:pns_handlers", args=[world.provider.pk]),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_lti_cleanup_hands_a_lost_delivery_to_the_task_engine_again(world, handler_server):  # noqa: F811
    """A delivery whose task was lost (queued long ago, never attempted) is enqueued again."""
    from datetime import timedelta
    from io import StringIO

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    register(world, handler_server.url, "LtiHelloWorldNotice")
    delivery = service.queue_notice(world.provider, "LtiHelloWorldNotice", issuer=ISSUER)
    recent = service.queue_notice(world.provider, "LtiHelloWorldNotice", issuer=ISSUER)
    NoticeDelivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - timedelta(hours=2)
    )
    out = StringIO()
    call_command("lti_cleanup", stdout=out)
    assert "handed to the task engine again: 1." in out.getvalue()
    tasks = DBTaskResult.objects.filter(task_path=DELIVER)
    assert [t.args_kwargs["args"] for t in tasks] == [[delivery.pk]]
    assert recent.status == NoticeDelivery.Status.QUEUED
