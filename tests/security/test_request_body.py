"""The one request-body reader (``wagtail_lti.security.request_body.read_body``) and the seven
doors that read through it.

At the rule: a declared ``Content-Length`` over the limit is refused before a byte is read; a body
over the limit once read (no ``Content-Length``, as a chunked upload under ASGI arrives) is
refused; a ``Content-Length`` that is not a number of bytes is refused; Django's own limit is one
more refusal. At the doors: a bad ``Content-Length`` gets each protocol's own error (it was a 500:
Django fails on it when the body is read), an oversized body each door's answer as before.
"""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pytest
from django.core.handlers.asgi import ASGIRequest
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from tests.support.hardening import (
    REDIRECT_URI,
    check_html_error,
    check_oauth2_error,
    check_oidc_error,
    check_pox_error,
    check_service_error,
    make_world,
    pox_request,
)
from tests.support.lti11 import send, sign_outcome
from wagtail_lti.security import request_body
from wagtail_lti.security.request_body import BodyRefused, read_body


# --- The rule -----------------------------------------------------------------------------------


class Unreadable(io.BytesIO):
    """A body stream that fails the test when read."""

    def read(self, *args, **kwargs):
        raise AssertionError("the body was read")

    readline = read


def _post(body: bytes = b"a=1", **meta):
    return RequestFactory().generic(
        "POST", "/x", body, content_type="application/x-www-form-urlencoded", **meta
    )


def _asgi(body: bytes, headers=()) -> ASGIRequest:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/x",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), *headers],
    }
    return ASGIRequest(scope, io.BytesIO(body))


def test_a_body_within_the_limit_is_read_and_the_form_parsed_from_it():
    request = _post(b"a=1&b=2")
    assert read_body(request, limit=7) == b"a=1&b=2"
    assert request.POST["b"] == "2"


def test_the_limit_is_max_request_body_by_default(settings):
    with override_settings(WAGTAIL_LTI={**settings.WAGTAIL_LTI, "MAX_REQUEST_BODY": 5}):
        with pytest.raises(BodyRefused) as refused:
            read_body(_post(b"a=1234"))
    assert refused.value.too_large and refused.value.limit == 5
    assert str(refused.value) == "The request body is larger than 5 bytes."


def test_a_declared_length_over_the_limit_is_refused_before_reading():
    request = _post(b"x" * 20)
    request._stream = Unreadable()
    with pytest.raises(BodyRefused) as refused:
        read_body(request, limit=10)
    assert refused.value.reason == request_body.TOO_LARGE


def test_a_body_over_the_limit_without_a_declared_length_is_refused_once_read():
    """ASGI: a chunked upload has no Content-Length; the body is refused by its real size."""
    request = _asgi(b"{" + b" " * 50 + b"}")
    assert "CONTENT_LENGTH" not in request.META
    with pytest.raises(BodyRefused) as refused:
        read_body(request, limit=10)
    assert refused.value.too_large


def test_a_body_larger_than_its_declared_length_is_refused():
    request = _asgi(b"x" * 50, headers=[(b"content-length", b"5")])
    with pytest.raises(BodyRefused) as refused:
        read_body(request, limit=10)
    assert refused.value.too_large


@pytest.mark.parametrize("value", ["abc", "-1", "1e3", "12.0", "0x10", "١٢"])
def test_a_content_length_that_is_not_a_number_of_bytes_is_refused(value):
    request = _post(CONTENT_LENGTH=value)
    request._stream = Unreadable()
    with pytest.raises(BodyRefused) as refused:
        read_body(request, limit=100)
    assert refused.value.reason == request_body.BAD_LENGTH
    assert not refused.value.too_large
    assert "Content-Length" in str(refused.value)


def test_djangos_own_limit_is_a_refusal_too(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4
    with pytest.raises(BodyRefused) as refused:
        read_body(_post(b"a=123456"), limit=100)
    assert refused.value.too_large


def test_an_empty_body_without_a_length_is_fine():
    request = RequestFactory().get("/x")
    assert read_body(request, limit=10) == b""


# --- The doors ----------------------------------------------------------------------------------


@pytest.fixture
def world(orgs, settings):
    settings.ALLOWED_HOSTS = ["testserver", "tool.example"]
    return make_world()


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def _outcomes(client, world, **meta):
    return _outcomes_prepared(
        client, sign_outcome(pox_request("readResult", world.sourcedid())), **meta
    )


def _token(client, world, **meta):
    return client.post(
        reverse("wagtail_lti:lti13_token"),
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        **meta,
    )


def _ags(client, world, **meta):
    return client.post(
        world.lineitems_path,
        '{"label": "New", "scoreMaximum": 10}',
        content_type="application/vnd.ims.lis.v2.lineitem+json",
        headers=world.bearer,
        **meta,
    )


def _register(client, world, **meta):
    return client.post(
        reverse("wagtail_lti:lti13_register"),
        '{"application_type": "web"}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {world.registration_token}"},
        **meta,
    )


def _authorize(client, world, **meta):
    return client.post(
        reverse("wagtail_lti:lti13_authorize"),
        urlencode({"client_id": world.provider13.client_id, "redirect_uri": REDIRECT_URI}),
        content_type="application/x-www-form-urlencoded",
        **meta,
    )


def _answer(name):
    def post(client, world, **meta):
        client.force_login(world.learner)
        return client.post(
            reverse(f"wagtail_lti:{name}"),
            urlencode({"JWT": "x", "lti_message_type": "ContentItemSelection"}),
            content_type="application/x-www-form-urlencoded",
            **meta,
        )

    return post


#: door: (request, its error format, status for a bad Content-Length, status for too large)
DOORS = {
    "outcomes": (_outcomes, check_pox_error, 400, 413),
    "token": (_token, check_oauth2_error, 400, 400),
    "ags": (_ags, check_service_error, 400, 413),
    "registration": (_register, lambda r: None, 400, 400),
    "authorization": (_authorize, check_oidc_error, 400, 413),
    "deep_linking_return": (_answer("lti13_deep_linking_return"), check_html_error, 400, 413),
    "content_item_return": (_answer("lti11_content_item_return"), check_html_error, 400, 413),
}


@pytest.mark.django_db
@pytest.mark.parametrize("door", list(DOORS))
def test_every_door_refuses_a_bad_content_length_with_its_own_error(world, client, door):
    send_request, check_error, status, _ = DOORS[door]
    response = send_request(client, world, CONTENT_LENGTH="not-a-number")
    assert response.status_code == status, response.content
    check_error(response)
    if door == "registration":
        assert response.json()["error"] == "invalid_client_metadata"
        assert "Content-Length" in response.json()["error_description"]


@pytest.mark.django_db
@pytest.mark.parametrize("door", list(DOORS))
def test_every_door_refuses_a_declared_length_over_the_limit_as_before(
    world, client, door, settings
):
    send_request, check_error, _, status = DOORS[door]
    with override_settings(WAGTAIL_LTI={**settings.WAGTAIL_LTI, "MAX_REQUEST_BODY": 10}):
        response = send_request(client, world)
    assert response.status_code == status, response.content
    check_error(response)
    if door == "registration":
        assert response.json() == {
            "error": "invalid_client_metadata",
            "error_description": "The request body is too large.",
        }


@pytest.mark.django_db
def test_outcomes_with_a_bad_content_length_records_nothing(world, client):
    from wagtail_lti.models import Result

    prepared = sign_outcome(pox_request("replaceResult", world.sourcedid(), "0.5"))
    response = send(client, prepared)  # the same request, well formed, is accepted
    assert response.status_code == 200
    Result.objects.all().delete()
    prepared = sign_outcome(pox_request("replaceResult", world.sourcedid(), "0.7"))
    response = _outcomes_prepared(client, prepared, CONTENT_LENGTH="x")
    assert response.status_code == 400
    check_pox_error(response)
    assert not Result.objects.exists()


def _outcomes_prepared(client, prepared, **meta):
    authorization = prepared.headers["Authorization"]
    if isinstance(authorization, bytes):
        authorization = authorization.decode()
    return client.generic(
        "POST",
        prepared.url.split("testserver", 1)[1],
        prepared.body,
        content_type="application/xml",
        HTTP_AUTHORIZATION=authorization,
        **meta,
    )
