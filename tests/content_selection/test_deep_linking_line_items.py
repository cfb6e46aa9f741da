"""Deep Linking 2.0 §3.4.1 ("LTI Resource Link"): an item's ``lineItem``, ``available``,
``submission``, ``window`` and ``iframe`` become the resource link's, and a placement of the link
in a course gets that line item (AGS 2.0 §3.2 line item properties).

The tool is PyLTI1p3: it validates our deep linking request and builds its response
(``DeepLinkResource`` with its ``LineItem``: label, scoreMaximum, resourceId, tag). PyLTI1p3 has no
setter for ``gradesReleased``, ``available``, ``submission``, ``window`` or ``iframe``: they are
added to its own message as §3.4.1 writes them, and the message is signed with its ``encode_jwt``.
The tool then reads the line item through AGS with its own access token (PyLTI1p3's
``AssignmentsGradesService``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pylti1p3.lineitem import LineItem as ToolLineItem

from tests.content_selection.test_deep_linking import (  # noqa: F401 - fixtures
    CONTENT_ITEMS,
    TOOL,
    deep_linking_launch,
    links,
    post_answer,
    resource,
    tool_keys,
    world,
)
from tests.support.factories import make_course, placements_of
from tests.support.lti13 import Tool
from tests.tooling.requests_adapter import routed_session
from wagtail_lti.lti import content_item
from wagtail_lti.lti.deep_linking import DeepLinkingError, read_response, window_name
from wagtail_lti.services import results
from wagtail_lti.services.urls import ags_lineitems_url


pytestmark = pytest.mark.django_db

WINDOWS = {
    "available": {"startDateTime": "2026-01-05T08:00:00Z", "endDateTime": "2030-06-30T22:00:00Z"},
    "submission": {
        "startDateTime": "2026-01-05T08:00:00+01:00",
        "endDateTime": "2030-06-15T17:00:00+02:00",
    },
}


def _quiz_message(launched, **item_extra):
    quiz = resource(
        "Chapter 4 quiz",
        f"{TOOL}/lti/quiz/4",
        line_item=ToolLineItem()
        .set_label("Chapter 4 (graded)")
        .set_score_maximum(40)
        .set_resource_id("quiz-4")
        .set_tag("final"),
    )
    message = launched.message([quiz])
    item = message[CONTENT_ITEMS][0]
    item["lineItem"]["gradesReleased"] = False
    item.update(item_extra)
    return message


def test_line_item_windows_and_presentation_reach_the_link_the_course_and_the_tool(world):  # noqa: F811
    """§3.4.1: lineItem (label, scoreMaximum, resourceId, tag, gradesReleased), available,
    submission, window (targetName, width, height, windowFeatures); then the placement's line
    item as the tool reads it through AGS (AGS 2.0 §3.2)."""
    launched = deep_linking_launch(world)
    message = _quiz_message(
        launched,
        window={
            "targetName": "quizWindow",
            "width": 900,
            "height": 700,
            "windowFeatures": "menubar=no,resizable=yes",
        },
        **WINDOWS,
    )
    answer = post_answer(world.client, launched.sign(message))
    assert answer.status_code == 303, answer.content.decode()
    link = links().last()
    assert link.requires_score and link.score_maximum == 40 == link.line_item_score_maximum
    assert (link.line_item_label, link.line_item_resource_id, link.line_item_tag) == (
        "Chapter 4 (graded)",
        "quiz-4",
        "final",
    )
    assert link.line_item_grades_released is False
    assert link.available_start == datetime(2026, 1, 5, 8, tzinfo=UTC)
    assert link.available_end == datetime(2030, 6, 30, 22, tzinfo=UTC)
    assert link.submission_start == datetime(2026, 1, 5, 7, tzinfo=UTC)
    assert link.submission_end == datetime(2030, 6, 15, 15, tzinfo=UTC)
    assert link.open_in == "window"
    assert (link.window_target_name, link.window_width, link.window_height) == (
        "quizWindow",
        900,
        700,
    )
    assert link.window_features == "menubar=no,resizable=yes"
    assert link.iframe_width is None and link.iframe_height is None

    # Placed in a course: the placement's line item is the tool's, not the automatic one.
    course = make_course(world.orgs["acme"], [(link, "Quiz four")])
    (placement,) = placements_of(course)
    item = results.line_item_for(placement)
    assert item.label == "Chapter 4 (graded)"  # the tool's label wins over the block title

    # The tool reads it with its own token (PyLTI1p3's AGS client).
    tool = Tool(world.provider, world.tool_private, world.tool_public)
    from django.test import RequestFactory

    lineitems = ags_lineitems_url(RequestFactory().get("/"), course, world.provider)
    ags = tool.ags(lineitems=lineitems, session=routed_session("http://testserver"))
    (seen,) = ags.get_lineitems()
    assert seen["label"] == "Chapter 4 (graded)"
    assert seen["scoreMaximum"] == 40
    assert seen["resourceId"] == "quiz-4" and seen["tag"] == "final"
    assert seen["resourceLinkId"] == placement.lti_id
    assert seen["gradesReleased"] is False
    assert seen["startDateTime"].startswith("2026-01-05T07:00:00")
    assert seen["endDateTime"].startswith("2030-06-15T15:00:00")
    assert ags.find_lineitem_by_resource_id("quiz-4").get_id() == seen["id"]


def test_iframe_sizes_become_the_frames(world):  # noqa: F811
    """§3.4.1 iframe (width, height): an embedded link with the tool's frame size."""
    launched = deep_linking_launch(world)
    message = launched.message([resource("Framed", f"{TOOL}/b")])
    message[CONTENT_ITEMS][0]["iframe"] = {"width": 800, "height": 640}
    assert post_answer(world.client, launched.sign(message)).status_code == 303
    link = links().last()
    assert (link.open_in, link.iframe_width, link.iframe_height) == ("embed", 800, 640)
    assert link.requires_score is False and link.line_item_label == ""


@pytest.mark.parametrize(
    "extra, words",
    [
        (
            {
                "available": {
                    "startDateTime": "2026-02-01T00:00:00Z",
                    "endDateTime": "2026-01-01T00:00:00Z",
                }
            },
            "ends before it starts",
        ),
        ({"submission": {"endDateTime": "next Tuesday"}}, "not an ISO 8601"),
        ({"submission": {"endDateTime": "2026-02-01T10:00:00"}}, "no time zone"),
        ({"available": "2026-02-01"}, "not a JSON object"),
        ({"window": {"width": -5}}, "whole number of pixels"),
        ({"iframe": {"height": 99999}}, "whole number of pixels"),
        ({"window": "new"}, "not a JSON object"),
    ],
)
def test_bad_windows_and_sizes_are_refused_with_nothing_created(world, extra, words):  # noqa: F811
    launched = deep_linking_launch(world)
    message = _quiz_message(launched, **extra)
    answer = post_answer(world.client, launched.sign(message))
    assert answer.status_code == 400
    assert words in answer.content.decode()
    assert links().count() == 1  # only the existing one


def test_bad_grades_released_is_refused(world):  # noqa: F811
    launched = deep_linking_launch(world)
    message = _quiz_message(launched)
    message[CONTENT_ITEMS][0]["lineItem"]["gradesReleased"] = "yes"
    answer = post_answer(world.client, launched.sign(message))
    assert answer.status_code == 400 and "gradesReleased" in answer.content.decode()
    assert links().count() == 1


# --- The rule, without the doors ----------------------------------------------------------------


def _claims(item):
    return {
        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiDeepLinkingResponse",
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "d",
        "nonce": "n",
        "https://purl.imsglobal.org/spec/lti-dl/claim/data": "x",
        CONTENT_ITEMS: [{"type": "ltiResourceLink", "title": "T", **item}],
    }


def test_read_response_keeps_every_field_of_the_item():
    (item,) = read_response(
        _claims(
            {
                "lineItem": {
                    "label": "L",
                    "scoreMaximum": 5,
                    "resourceId": "r",
                    "tag": "t",
                    "gradesReleased": True,
                },
                "iframe": {"width": 640.0, "height": 480},
                **WINDOWS,
            }
        ),
        deployment_id="d",
    ).items
    assert (item.line_item_label, item.score_maximum) == ("L", 5.0)
    assert (item.line_item_resource_id, item.line_item_tag) == ("r", "t")
    assert item.line_item_grades_released is True
    assert (item.open_in, item.iframe_width, item.iframe_height) == ("embed", 640, 480)
    assert item.available_start.isoformat() == "2026-01-05T08:00:00+00:00"
    assert item.submission_end.utcoffset().total_seconds() == 7200


def test_read_response_refuses_a_naive_date():
    with pytest.raises(DeepLinkingError, match="no time zone"):
        read_response(
            _claims({"available": {"startDateTime": "2026-01-05T08:00:00"}}), deployment_id="d"
        )


@pytest.mark.parametrize(
    "name, safe",
    [
        ("quizWindow", "quizWindow"),
        ("_blank", ""),
        ("_top", ""),
        ("my window<script>", "my_window_script_"),
        ("", ""),
        ("x" * 100, "x" * 64),
    ],
)
def test_window_names_are_made_safe(name, safe):
    assert window_name(name) == safe


def test_content_item_placement_advice_and_line_item_map_to_the_same_fields():
    """Content-Item 1.0: placementAdvice (presentationDocumentTarget, displayWidth,
    displayHeight, windowTarget) and lineItem.assignedActivity.activityId."""
    import json

    graph = {
        "@context": content_item.CONTEXT_URL,
        "@graph": [
            {
                "@type": "LtiLinkItem",
                "mediaType": content_item.LTI_LINK_MEDIA_TYPE,
                "title": "Pop",
                "placementAdvice": {
                    "presentationDocumentTarget": "window",
                    "displayWidth": 1000,
                    "displayHeight": 800,
                    "windowTarget": "pop",
                },
                "lineItem": {
                    "@type": "LineItem",
                    "label": "Pop quiz",
                    "assignedActivity": {"activityId": "pop-1"},
                    "scoreConstraints": {"normalMaximum": 20},
                },
            },
            {
                "@type": "LtiLinkItem",
                "mediaType": content_item.LTI_LINK_MEDIA_TYPE,
                "title": "Framed",
                "placementAdvice": {
                    "presentationDocumentTarget": "iframe",
                    "displayHeight": 500,
                },
            },
        ],
    }
    selection = content_item.read_selection(
        {
            "lti_message_type": "ContentItemSelection",
            "lti_version": "LTI-1p0",
            "data": "x",
            "content_items": json.dumps(graph),
        }
    )
    pop, framed = selection.items
    assert (pop.open_in, pop.window_width, pop.window_height, pop.window_target_name) == (
        "window",
        1000,
        800,
        "pop",
    )
    assert (pop.line_item_label, pop.score_maximum, pop.line_item_resource_id) == (
        "Pop quiz",
        20.0,
        "pop-1",
    )
    assert (framed.open_in, framed.iframe_height, framed.iframe_width) == ("embed", 500, None)
