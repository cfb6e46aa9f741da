"""Helpers for the LTI 1.1 outcomes and results tests.

``make_course_setup`` creates, directly in the database, what publishing a course page with one
graded LTI 1.1 activity creates: a course page of the example site, a placement, its automatic
line item, and a learner enrolled on the course.

``DjangoClientAdapter`` lets a tool library that speaks HTTP through ``requests`` (the ``lti``
package) talk to the Django test client, so outcomes travel exactly as a tool sends them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict
from requests_oauthlib import OAuth1
from wagtail.models import Page

from tests.support.factories import make_course, make_learner, make_link, make_provider
from wagtail_lti.models import Enrollment, LineItem, LtiProvider, LtiResourceLink, Placement


OUTCOMES_PATH = "/lti/1.1/outcomes/"
OUTCOMES_URL = "http://testserver" + OUTCOMES_PATH
TOOL_KEY = "quiz-tool-key"
TOOL_SECRET = "quiz-tool-secret"


@dataclass
class CourseSetup:
    course: Page
    provider: LtiProvider
    link: LtiResourceLink
    placement: Placement
    line_item: LineItem | None
    learner: object
    enrollment: Enrollment


def make_course_setup(
    orgs,
    *,
    requires_score: bool = True,
    provider: LtiProvider | None = None,
    course: Page | None = None,
    username: str = "learner",
    block_id: str = "block-1",
) -> CourseSetup:
    provider = provider or make_provider(orgs["acme"], key=TOOL_KEY, secret=TOOL_SECRET)
    link = make_link(
        provider,
        organization=orgs["acme"],
        name="Fire drill quiz",
        url="https://tool.example.com/lti/launch",
        requires_score=requires_score,
        score_maximum=100,
    )
    course = course or make_course(
        orgs["engineering"],
        [],
        title="Safety at work",
        code="SAF-101",
        publish=False,
        parent=Page.get_first_root_node(),
    )
    placement = Placement.objects.create(
        page=course, block_id=block_id, resource_link=link, title="Fire drill quiz"
    )
    line_item = None
    if requires_score:
        line_item = LineItem.objects.create(
            provider=provider,
            course=course,
            placement=placement,
            label="Fire drill quiz",
            score_maximum=100,
        )
    learner = make_learner(username, first_name="Lea")
    enrollment = Enrollment.objects.create(course=course, user=learner)
    return CourseSetup(course, provider, link, placement, line_item, learner, enrollment)


class DjangoClientAdapter(requests.adapters.BaseAdapter):
    """A ``requests`` transport that hands each request to a Django test client."""

    def __init__(self, client):
        super().__init__()
        self.client = client
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.sent.append(request)
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = CaseInsensitiveDict(
            {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        )
        extra = {}
        if "Authorization" in headers:
            extra["HTTP_AUTHORIZATION"] = headers["Authorization"]
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        answer = self.client.generic(
            request.method,
            path,
            data=body,
            content_type=headers.get("Content-Type", ""),
            **extra,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.content
        response.headers = CaseInsensitiveDict(dict(answer.headers))
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


def tool_session(client) -> requests.Session:
    session = requests.Session()
    session.mount("http://testserver/", DjangoClientAdapter(client))
    return session


def sign_outcome(
    body: bytes,
    *,
    key: str = TOOL_KEY,
    secret: str = TOOL_SECRET,
    url: str = OUTCOMES_URL,
    content_type: str = "application/xml",
    **oauth_kwargs,
) -> requests.PreparedRequest:
    """Sign ``body`` as a tool does: OAuth 1.0a header + oauth_body_hash (requests-oauthlib)."""
    auth = OAuth1(
        key, secret, signature_type="auth_header", force_include_body=True, **oauth_kwargs
    )
    return requests.Request(
        "POST", url, data=body, headers={"Content-Type": content_type}, auth=auth
    ).prepare()


def send(client, prepared: requests.PreparedRequest, *, body: bytes | None = None):
    """POST a prepared (signed) request through the Django test client, optionally with another
    body than the one that was signed."""
    authorization = prepared.headers["Authorization"]
    if isinstance(authorization, bytes):
        authorization = authorization.decode()
    content_type = prepared.headers["Content-Type"]
    if isinstance(content_type, bytes):
        content_type = content_type.decode()
    parts = urlsplit(prepared.url)
    return client.generic(
        "POST",
        parts.path + (f"?{parts.query}" if parts.query else ""),
        data=prepared.body if body is None else body,
        content_type=content_type,
        HTTP_AUTHORIZATION=authorization,
    )
