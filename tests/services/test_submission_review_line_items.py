"""Submission Review 1.0, the line item extension: a tool declares ``submissionReview`` on a line
item and the AGS line item API stores and returns it (POST, PUT, GET of the line item and of the
container). The tool is PyLTI1p3 (``LineItem.set_submission_review``) with a real access token;
what PyLTI1p3 never sends goes as raw HTTP with its token. The rule of the declaration is
``lti/submission_review.py: parse_submission_review`` and ``is_reviewable``.

Spec sections cited: LTI Submission Review Service 1.0, "Line item extension" (the
``submissionReview`` object: ``reviewableStatus``, ``label``, ``url``, ``custom``); AGS 2.0 §3.2
(line items).
"""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from pylti1p3.lineitem import LineItem as ToolLineItem

from tests.support.factories import enroll, make_course, make_learner, make_link, placements_of
from tests.support.lti13 import ALL_AGS_SCOPES, make_tool
from wagtail_lti.lti import ags as ags_core
from wagtail_lti.lti import submission_review as sr
from wagtail_lti.models import LineItem
from wagtail_lti.services import results
from wagtail_lti.services import urls as ags_urls


LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
DECLARATION = {
    "reviewableStatus": ["Submitted", "FullyGraded"],
    "label": "Open the marking view",
    "url": "https://tool.example/review?essay=7",
    "custom": {"action": "review", "a_id": "23942"},
}


def absolute(builder, *args):
    return builder(RequestFactory().get("/"), *args)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def setup(orgs):
    tool = make_tool(orgs["acme"], allow_ags=True)
    link = make_link(tool.provider, requires_score=True, score_maximum=100)
    course = make_course(orgs["engineering"], [link], title="Engineering basics")
    enroll(make_learner("lee"), course)
    (placement,) = placements_of(course)
    line_item = results.line_item_for(placement)
    return {
        "tool": tool,
        "course": course,
        "placement": placement,
        "line_item": line_item,
        "lineitems_url": absolute(ags_urls.ags_lineitems_url, course, tool.provider),
        "lineitem_url": absolute(ags_urls.ags_lineitem_url, line_item),
    }


def tool_ags(s):
    return s["tool"].ags(lineitems=s["lineitems_url"], lineitem=s["lineitem_url"])


class Raw:
    """The tool's raw HTTP with a real access token."""

    def __init__(self, client, tool):
        self.client = client
        self.auth = {"Authorization": f"Bearer {tool.access_token(ALL_AGS_SCOPES)}"}

    def get(self, url):
        return self.client.get(url, headers=self.auth)

    def post(self, url, body):
        return self.client.post(
            url, json.dumps(body), content_type=LINEITEM_TYPE, headers=self.auth
        )

    def put(self, url, body):
        return self.client.put(url, json.dumps(body), content_type=LINEITEM_TYPE, headers=self.auth)


# --- Through PyLTI1p3 ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_pylti1p3_declares_a_review_and_reads_it_back(setup, client):
    """SR 1.0 "Line item extension": the declaration is stored and returned as sent, by the line
    item (POST answer, GET) and by the container (GET)."""
    ags = tool_ags(setup)
    wanted = (
        ToolLineItem()
        .set_tag("essay")
        .set_label("Essay")
        .set_score_maximum(20)
        .set_resource_link_id(setup["placement"].lti_id)
        .set_submission_review(
            DECLARATION["reviewableStatus"],
            label=DECLARATION["label"],
            url=DECLARATION["url"],
            custom=DECLARATION["custom"],
        )
    )
    created = ags.find_or_create_lineitem(wanted)
    assert created.get_submission_review() == DECLARATION
    stored = LineItem.objects.get(tag="essay")
    assert stored.submission_review == DECLARATION

    # The container (what find_lineitem_by_tag reads) and the line item itself.
    found = ags.find_lineitem_by_tag("essay")
    assert found.get_submission_review() == DECLARATION
    one = Raw(client, setup["tool"]).get(created.get_id())
    assert one.status_code == 200 and one.json()["submissionReview"] == DECLARATION
    # A line item without one says nothing about it.
    automatic = Raw(client, setup["tool"]).get(setup["lineitem_url"])
    assert "submissionReview" not in automatic.json()


@pytest.mark.django_db
def test_put_declares_changes_and_removes_a_review(setup, client):
    """AGS §3.2.6: PUT replaces the definition, the declaration with it; the platform's own
    gradebook column may be declared reviewable too (its label and maximum stay the platform's)."""
    raw = Raw(client, setup["tool"])
    url = setup["lineitem_url"]
    body = {"label": "Quiz 1", "scoreMaximum": 100, "submissionReview": {"reviewableStatus": []}}
    answer = raw.put(url, body)
    assert answer.status_code == 200, answer.content
    assert answer.json()["submissionReview"] == {"reviewableStatus": []}
    body["submissionReview"] = DECLARATION
    assert raw.put(url, body).json()["submissionReview"] == DECLARATION
    setup["line_item"].refresh_from_db()
    assert setup["line_item"].submission_review == DECLARATION
    del body["submissionReview"]
    answer = raw.put(url, body)
    assert "submissionReview" not in answer.json()
    setup["line_item"].refresh_from_db()
    assert setup["line_item"].submission_review is None


BAD = [
    ("not an object", "submissionReview must be a JSON object"),
    ({"reviewableStatus": "Submitted"}, "must be an array of strings"),
    ({"reviewableStatus": ["Reviewed"]}, "unknown status"),
    ({"url": "javascript:alert(1)"}, "absolute https://"),
    ({"url": "/relative/review"}, "absolute https://"),
    ({"url": "https://tool.example/a b"}, "spaces"),
    ({"url": "https://tool.example/" + "x" * 1100}, "longer than 1024"),
    ({"custom": ["a"]}, "JSON object of strings"),
    ({"custom": {"nested": {"a": "b"}}}, "flat map of strings"),
    ({"custom": {"n": 3}}, "flat map of strings"),
    ({"custom": {f"k{n}": "v" for n in range(51)}}, "more than 50"),
    ({"custom": {"k": "v" * 1025}}, "longer than 1024"),
    ({"label": 7}, "label must be text"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("declaration, fragment", BAD)
def test_bad_declarations_are_refused_and_nothing_is_stored(setup, client, declaration, fragment):
    """A bad ``submissionReview`` is the AGS endpoint's 400 with a description; POST creates
    nothing and PUT changes nothing."""
    raw = Raw(client, setup["tool"])
    count = LineItem.objects.count()
    body = {"label": "Essay", "scoreMaximum": 10, "submissionReview": declaration}
    answer = raw.post(setup["lineitems_url"], body)
    assert answer.status_code == 400
    assert fragment in answer.json()["error_description"]
    assert LineItem.objects.count() == count
    answer = raw.put(setup["lineitem_url"], {**body, "label": "Quiz 1"})
    assert answer.status_code == 400 and fragment in answer.json()["error_description"]
    setup["line_item"].refresh_from_db()
    assert setup["line_item"].submission_review is None


# --- The rule, pure --------------------------------------------------------------------------------


def test_parse_keeps_what_the_spec_defines_and_cleans_it():
    assert sr.parse_submission_review(None) is None
    assert sr.parse_submission_review({}) == {}
    assert sr.parse_submission_review(
        {
            "reviewableStatus": ["Submitted", "Submitted", "Completed"],
            "label": "  Look  ",
            "url": " https://tool.example/r ",
            "custom": {},
            "other": "ignored",
        }
    ) == {
        "reviewableStatus": ["Submitted", "Completed"],
        "label": "Look",
        "url": "https://tool.example/r",
    }


@pytest.mark.parametrize(
    "statuses, activity, grading, expected",
    [
        (None, "Submitted", "Pending", True),  # no list: any result
        ([], "Initialized", "NotReady", True),
        (["Submitted"], "Submitted", "Pending", True),
        (["FullyGraded"], "Completed", "FullyGraded", True),
        (["Submitted", "Completed"], "InProgress", "Pending", False),
        (["FullyGraded"], "Completed", "PendingManual", False),
    ],
)
def test_is_reviewable_reads_both_progress_values(statuses, activity, grading, expected):
    """SR 1.0 "reviewableStatus": ``activityProgress`` and ``gradingProgress`` values (AGS §3.4.7,
    §3.4.8)."""
    review = {} if statuses is None else {"reviewableStatus": statuses}
    assert sr.is_reviewable(review, activity, grading) is expected
    assert sr.is_reviewable(None, activity, grading) is False  # not declared


def test_line_item_json_returns_the_declaration_only_when_there_is_one():
    base = {
        "id": "https://x/1",
        "label": "L",
        "score_maximum": 1,
        "resource_link_id": None,
        "resource_id": "",
        "tag": "",
        "start_date_time": None,
        "end_date_time": None,
        "grades_released": None,
    }
    assert "submissionReview" not in ags_core.line_item_json(**base)
    assert ags_core.line_item_json(**base, submission_review={})["submissionReview"] == {}
