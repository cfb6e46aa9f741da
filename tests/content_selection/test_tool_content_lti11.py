"""Content for a page from an LTI 1.1 tool (Content-Item Message 1.0): the request says what the
place takes; the tool's ``ContentItemSelection`` (signed with oauthlib's ``Client``, verified
request with oauthlib's ``SignatureOnlyEndpoint``) brings ``ContentItem``s and ``LtiLinkItem``s."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.content_selection import test_content_item as ci
from tests.content_selection.test_content_item import (
    SELECT_URL,
    answer_fields,
    link_item,
    post,
    sign,
    tool_verifies,
)
from tests.support.forms import the_form
from wagtail_lti.models import ContentSelection, ToolContent


pytestmark = pytest.mark.django_db

world = ci.world


def start(world, place="rich_text") -> dict:
    response = world["client"].post(
        reverse("wagtail_lti_tool_content") + f"?place={place}",
        {"provider": world["provider"].pk, "organization": world["orgs"]["acme"].pk},
    )
    assert response.status_code == 200, response.content.decode()
    form = the_form(response)
    assert form["action"] == SELECT_URL
    return dict(form["fields"])


def test_request_says_what_rich_text_takes_and_is_signed(world):
    fields = start(world)
    assert tool_verifies(fields)
    media = fields["accept_media_types"].split(",")
    assert media[:3] == ["application/vnd.ims.lti.v1.ltilink", "text/html", "image/*"]
    assert "application/pdf" in media
    assert fields["accept_presentation_document_targets"] == "iframe,window,embed"
    assert fields["accept_multiple"] == "true"


def test_block_request_asks_for_one_item(world):
    fields = start(world, place="block")
    assert tool_verifies(fields) and fields["accept_multiple"] == "false"


def test_content_items_of_each_kind_are_kept(world):
    data = start(world)["data"]
    items = [
        {
            "@type": "ContentItem",
            "mediaType": "text/html",
            "url": "https://site.example/page",
            "title": "Page",
            "placementAdvice": {"presentationDocumentTarget": "window"},
        },
        {
            "@type": "ContentItem",
            "mediaType": "text/html",
            "text": "<p>Hello <a href='javascript:alert(1)'>x</a></p><script>x()</script>",
            "placementAdvice": {"presentationDocumentTarget": "embed"},
        },
        {
            "@type": "ContentItem",
            "mediaType": "image/png",
            "url": "https://img.example/a.png",
            "title": "Chart",
            "placementAdvice": {"displayWidth": 300, "displayHeight": 200},
        },
        link_item("Quiz", "https://tool.example/ci/quiz"),
    ]
    body, _ = sign(answer_fields(data, items))
    answer = post(world["client"], body)
    assert answer.status_code == 303, answer.content.decode()
    link, html, image, activity = ToolContent.objects.order_by("pk")
    assert (link.kind, link.presentation["target"]) == ("link", "window")
    assert html.html == '<p>Hello <a rel="noopener noreferrer">x</a></p>'
    assert (image.kind, image.width, image.height) == ("image", 300, 200)
    assert activity.kind == "ltiResourceLink" and activity.resource_link.name == "Quiz"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"@type": "ContentItem", "mediaType": "video/mp4", "url": "https://v/a.mp4"}, "video/mp4"),
        (
            {
                "@type": "FileItem",
                "mediaType": "application/pdf",
                "url": "https://f/a.pdf",
                "expiresAt": "2001-01-01T00:00:00Z",
            },
            "has expired",
        ),
    ],
)
def test_refused_items_add_nothing(world, item, message):
    data = start(world)["data"]
    body, _ = sign(answer_fields(data, [item]))
    answer = post(world["client"], body)
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert ToolContent.objects.count() == 0
    assert ContentSelection.objects.get().used_at is None
