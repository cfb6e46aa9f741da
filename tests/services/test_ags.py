"""Assignment and Grade Services 2.0, with PyLTI1p3's ``AssignmentsGradesService`` as the tool.

The tool gets its token from our token endpoint and calls our line item, score and result
endpoints through a ``requests`` session routed into the Django test client. Refusals are sent
as raw HTTP (the shapes PyLTI1p3 would never send) and each is checked to record nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.test import RequestFactory, override_settings
from pylti1p3.exception import LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem as ToolLineItem

from tests.support.factories import enroll, make_course, make_learner, make_link, placements_of
from tests.support.lti13 import AGS, ALL_AGS_SCOPES, make_tool
from tests.tooling.requests_adapter import routed_session
from wagtail_lti.lti import ags as ags_core
from wagtail_lti.models import LearnerActivity, LineItem, Result, ScoreEvent
from wagtail_lti.security.identifiers import opaque_user_id
from wagtail_lti.services import results
from wagtail_lti.services import urls as ags_urls


SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"


def absolute(builder, *args):
    return builder(RequestFactory().get("/"), *args)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def setup(orgs):
    """Two tools placed in one course (engineering), one learner enrolled, one not."""
    tool = make_tool(orgs["acme"])
    other = make_tool(orgs["acme"], name="Other tool")
    link = make_link(tool.provider, requires_score=True, score_maximum=100)
    other_link = make_link(other.provider, name="Essay", requires_score=True, score_maximum=10)
    course = make_course(orgs["engineering"], [link, other_link], title="Engineering basics")
    learner = make_learner("lee")
    enroll(learner, course)
    outsider = make_learner("olga")
    placement, other_placement = placements_of(course)
    line_item = results.line_item_for(placement)
    other_line_item = results.line_item_for(other_placement)
    assert line_item is not None and other_line_item is not None
    return {
        "tool": tool,
        "other": other,
        "course": course,
        "learner": learner,
        "outsider": outsider,
        "placement": placement,
        "other_placement": other_placement,
        "line_item": line_item,
        "other_line_item": other_line_item,
        "lineitems_url": absolute(ags_urls.ags_lineitems_url, course, tool.provider),
        "lineitem_url": absolute(ags_urls.ags_lineitem_url, line_item),
    }


def tool_ags(s, **kwargs):
    return s["tool"].ags(lineitems=s["lineitems_url"], lineitem=s["lineitem_url"], **kwargs)


def grade(
    user,
    score_given=8.0,
    score_maximum=10.0,
    *,
    timestamp=None,
    grading="FullyGraded",
    activity="Completed",
):
    g = (
        Grade()
        .set_activity_progress(activity)
        .set_grading_progress(grading)
        .set_timestamp((timestamp or datetime.now(UTC)).isoformat())
        .set_user_id(opaque_user_id(user))
    )
    if score_given is not None:
        g.set_score_given(score_given).set_score_maximum(score_maximum)
    return g


def nothing_recorded():
    return not Result.objects.exists() and not ScoreEvent.objects.exists()


class Raw:
    """A tool sending raw HTTP with a real access token (for what PyLTI1p3 would never send)."""

    def __init__(self, client, tool, scopes=ALL_AGS_SCOPES):
        self.client = client
        self.auth = {"Authorization": f"Bearer {tool.access_token(scopes)}"}

    def get(self, url):
        return self.client.get(url, headers=self.auth)

    def post(self, url, body, content_type):
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        return self.client.post(url, data, content_type=content_type, headers=self.auth)

    def put(self, url, body, content_type=LINEITEM_TYPE):
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        return self.client.put(url, data, content_type=content_type, headers=self.auth)

    def delete(self, url):
        return self.client.delete(url, headers=self.auth)


def score_body(user, **overrides):
    body = {
        "userId": opaque_user_id(user),
        "scoreGiven": 7,
        "scoreMaximum": 10,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": datetime.now(UTC).isoformat(),
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


# --- Scores through PyLTI1p3 -------------------------------------------------------------------------


@pytest.mark.django_db
def test_put_grade_records_the_result_and_completes_the_activity(setup):
    """AGS §3.4 and the issue: a FullyGraded score completes the activity, as 1.1 does."""
    response = tool_ags(setup).put_grade(grade(setup["learner"], 8, 10))
    assert response["body"]["resultUrl"].endswith(
        f"/results?user_id={opaque_user_id(setup['learner'])}"
    )
    result = Result.objects.get(line_item=setup["line_item"], user=setup["learner"])
    assert (result.score_given, result.score_maximum, result.grading_progress) == (
        8,
        10,
        "FullyGraded",
    )
    event = ScoreEvent.objects.get()
    assert event.source == "ags" and event.timestamp is not None
    activity = LearnerActivity.objects.get(placement=setup["placement"], user=setup["learner"])
    assert activity.status == LearnerActivity.Status.COMPLETED and activity.score == pytest.approx(
        0.8
    )


@pytest.mark.django_db
def test_a_score_of_zero_is_a_score(setup):
    tool_ags(setup).put_grade(grade(setup["learner"], 0, 10))
    result = Result.objects.get()
    assert result.score_given == 0 and result.score_maximum == 10
    activity = LearnerActivity.objects.get(placement=setup["placement"], user=setup["learner"])
    assert activity.status == LearnerActivity.Status.COMPLETED and activity.score == 0


@pytest.mark.django_db
def test_a_pending_score_is_recorded_without_completing(setup):
    tool_ags(setup).put_grade(grade(setup["learner"], 3, 10, grading="PendingManual"))
    assert Result.objects.get().grading_progress == "PendingManual"
    activity = LearnerActivity.objects.filter(
        placement=setup["placement"], user=setup["learner"]
    ).first()
    assert activity is None or activity.status != LearnerActivity.Status.COMPLETED


@pytest.mark.django_db
def test_a_score_without_score_given_clears_it(setup):
    ags = tool_ags(setup)
    ags.put_grade(grade(setup["learner"], 9, 10))
    ags.put_grade(grade(setup["learner"], None, activity="Initialized", grading="NotReady"))
    result = Result.objects.get()
    assert result.score_given is None and result.score_maximum is None
    assert ScoreEvent.objects.count() == 2


@pytest.mark.django_db
def test_out_of_order_and_equal_timestamps_are_refused(setup, client):
    """AGS §3.4.9: never overwrite with an older or equal timestamp; nothing recorded."""
    ags = tool_ags(setup)
    t2 = datetime.now(UTC)
    ags.put_grade(grade(setup["learner"], 9, 10, timestamp=t2))
    for stale in (t2 - timedelta(seconds=30), t2):
        with pytest.raises(LtiServiceException) as refused:
            ags.put_grade(grade(setup["learner"], 2, 10, timestamp=stale))
        assert refused.value.response.status_code == 409
    result = Result.objects.get()
    assert result.score_given == 9 and ScoreEvent.objects.count() == 1
    # A later one goes through.
    ags.put_grade(grade(setup["learner"], 4, 10, timestamp=t2 + timedelta(milliseconds=1)))
    assert Result.objects.get().score_given == 4


@pytest.mark.django_db
def test_timestamps_compare_across_time_zones(setup, client):
    raw = Raw(client, setup["tool"])
    scores_url = setup["lineitem_url"] + "/scores"
    for timestamp, status in [
        ("2024-01-01T12:00:00.000+02:00", 200),
        ("2024-01-01T10:30:00.000Z", 200),  # 10:30Z is after 10:00Z (= 12:00+02:00).
        ("2024-01-01T11:00:00.000+02:00", 409),  # 11:00+02:00 is 09:00Z, before.
    ]:
        response = raw.post(
            scores_url, score_body(setup["learner"], timestamp=timestamp), SCORE_TYPE
        )
        assert response.status_code == status, timestamp


@pytest.mark.django_db
def test_a_timestamp_an_hour_ahead_is_refused_and_records_nothing(setup, client):
    """A tool whose clock runs an hour ahead would block its own later scores (§3.4.9): 400."""
    with pytest.raises(LtiServiceException) as refused:
        tool_ags(setup).put_grade(
            grade(setup["learner"], 9, 10, timestamp=datetime.now(UTC) + timedelta(hours=1))
        )
    response = refused.value.response
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == "invalid_request"
    assert "ahead of the platform's clock" in body["error_description"]
    assert nothing_recorded()
    # Same through raw HTTP, with an offset instead of Z.
    ahead = (datetime.now(UTC) + timedelta(hours=1)).astimezone(timezone(timedelta(hours=-5)))
    response = Raw(client, setup["tool"]).post(
        setup["lineitem_url"] + "/scores",
        score_body(setup["learner"], timestamp=ahead.isoformat()),
        SCORE_TYPE,
    )
    assert response.status_code == 400 and "timestamp" in response.json()["error_description"]
    assert nothing_recorded()
    # Nothing was recorded, so a score stamped now still goes through.
    tool_ags(setup).put_grade(grade(setup["learner"], 4, 10))
    assert Result.objects.get().score_given == 4 and ScoreEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_timestamp_slightly_ahead_within_the_leeway_is_accepted(setup):
    """CLIENT_ASSERTION_LEEWAY (60 s) of clock difference is tolerated."""
    ahead = datetime.now(UTC) + timedelta(seconds=30)
    tool_ags(setup).put_grade(grade(setup["learner"], 6, 10, timestamp=ahead))
    result = Result.objects.get()
    assert result.score_given == 6 and result.timestamp == ahead


@pytest.mark.django_db
def test_the_future_timestamp_leeway_is_client_assertion_leeway(setup, client, settings):
    raw = Raw(client, setup["tool"])
    ahead = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    with override_settings(WAGTAIL_LTI={**settings.WAGTAIL_LTI, "CLIENT_ASSERTION_LEEWAY": 5}):
        response = raw.post(
            setup["lineitem_url"] + "/scores",
            score_body(setup["learner"], timestamp=ahead),
            SCORE_TYPE,
        )
    assert response.status_code == 400 and "5 seconds" in response.json()["error_description"]
    assert nothing_recorded()


def test_check_score_timestamp_boundaries():
    """The protocol core: refused only beyond ``now`` + leeway, whatever the time zones."""
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    check = ags_core.check_score_timestamp
    check(now - timedelta(days=400), now=now, leeway_seconds=60)
    check(now, now=now, leeway_seconds=60)
    check(now + timedelta(seconds=60), now=now, leeway_seconds=60)
    check(
        datetime(2025, 6, 1, 14, 1, tzinfo=timezone(timedelta(hours=2))), now=now, leeway_seconds=60
    )
    for ahead in (
        now + timedelta(seconds=60, microseconds=1),
        now + timedelta(hours=1),
        datetime(2025, 6, 1, 14, 2, tzinfo=timezone(timedelta(hours=2))),
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
    ):
        with pytest.raises(ags_core.AgsError) as refused:
            check(ahead, now=now, leeway_seconds=60)
        assert refused.value.status == 400 and "AGS §3.4.9" in str(refused.value)
    with pytest.raises(ags_core.AgsError):
        check(now + timedelta(seconds=1), now=now, leeway_seconds=0)


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"userId": ...}, "userId"),
        ({"userId": ""}, "userId"),
        ({"scoreMaximum": ...}, "scoreMaximum"),
        ({"scoreGiven": -1}, "negative"),
        ({"scoreGiven": "7"}, "number"),
        ({"scoreGiven": True}, "number"),
        ({"scoreMaximum": 0}, "scoreMaximum"),
        ({"activityProgress": "Done"}, "activityProgress"),
        ({"activityProgress": ...}, "activityProgress"),
        ({"gradingProgress": "Graded"}, "gradingProgress"),
        ({"timestamp": ...}, "timestamp"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": "2030-01-01T12:00:00"}, "time zone"),
        ({"timestamp": "2030-01-01"}, "timestamp"),
        ({"timestamp": 1700000000}, "timestamp"),
        ({"comment": 5}, "comment"),
        ({"scoringUserId": ""}, "scoringUserId"),
    ],
)
@pytest.mark.django_db
def test_malformed_scores_are_refused(setup, client, overrides, fragment):
    response = Raw(client, setup["tool"]).post(
        setup["lineitem_url"] + "/scores", score_body(setup["learner"], **overrides), SCORE_TYPE
    )
    assert response.status_code == 400, response.content
    assert fragment in response.json()["error_description"]
    assert nothing_recorded()


@pytest.mark.parametrize(
    "body, content_type, status",
    [
        (b"{not json", SCORE_TYPE, 400),
        (b"\xff\xfe", SCORE_TYPE, 400),
        (b"[1, 2]", SCORE_TYPE, 400),
        (b'{"scoreGiven": NaN}', SCORE_TYPE, 400),
        (b"  ", SCORE_TYPE, 400),
        (None, "application/json", 415),
        (None, "text/plain", 415),
    ],
    ids=["broken-json", "not-utf8", "array", "nan", "empty", "json-type", "text-type"],
)
@pytest.mark.django_db
def test_bad_bodies_and_media_types_are_refused(setup, client, body, content_type, status):
    payload = body if body is not None else json.dumps(score_body(setup["learner"]))
    response = Raw(client, setup["tool"]).post(
        setup["lineitem_url"] + "/scores", payload, content_type
    )
    assert response.status_code == status
    assert response["Content-Type"] == "application/json" and response.json()["error"]
    assert nothing_recorded()


@pytest.mark.django_db
def test_a_score_for_someone_not_in_the_course_is_refused(setup, client):
    raw = Raw(client, setup["tool"])
    response = raw.post(
        setup["lineitem_url"] + "/scores", score_body(setup["outsider"]), SCORE_TYPE
    )
    assert response.status_code == 400 and "member" in response.json()["error_description"]
    response = raw.post(
        setup["lineitem_url"] + "/scores", score_body(setup["learner"], userId="f" * 32), SCORE_TYPE
    )
    assert response.status_code == 400
    assert nothing_recorded()


@pytest.mark.django_db
def test_oversized_score_is_refused(setup, client, settings):
    raw = Raw(client, setup["tool"])
    with override_settings(WAGTAIL_LTI={**settings.WAGTAIL_LTI, "MAX_REQUEST_BODY": 100}):
        response = raw.post(
            setup["lineitem_url"] + "/scores",
            score_body(setup["learner"], comment="x" * 500),
            SCORE_TYPE,
        )
    assert response.status_code == 413
    assert nothing_recorded()


# --- Line items through PyLTI1p3 ---------------------------------------------------------------------


@pytest.mark.django_db
def test_find_or_create_lineitem_creates_once_then_finds(setup):
    ags = tool_ags(setup)
    wanted = (
        ToolLineItem()
        .set_tag("originality")
        .set_score_maximum(50)
        .set_label("Originality")
        .set_resource_id("essay-7")
        .set_resource_link_id(setup["placement"].lti_id)
    )
    created = ags.find_or_create_lineitem(wanted)
    assert created.get_id().startswith("http://testserver/lti/1.3/ags/")
    assert "?" not in created.get_id()  # pitfall 8: no query string in line item ids
    assert created.get_tag() == "originality" and created.get_resource_id() == "essay-7"
    assert created.get_resource_link_id() == setup["placement"].lti_id
    assert created.get_score_maximum() == 50
    found = ags.find_or_create_lineitem(wanted)
    assert found.get_id() == created.get_id()
    assert LineItem.objects.filter(tag="originality").count() == 1

    # Scores to the new line item, then get_grades.
    ags.put_grade(grade(setup["learner"], 20, 50), created)
    grades = ags.get_grades(created)
    assert grades == [
        {
            "id": created.get_id() + f"/results?user_id={opaque_user_id(setup['learner'])}",
            "scoreOf": created.get_id(),
            "userId": opaque_user_id(setup["learner"]),
            "resultMaximum": 50,
            "resultScore": 20,
        }
    ]


@pytest.mark.django_db
def test_get_lineitems_follows_next_links(setup, settings):
    session = routed_session()
    ags = tool_ags(setup, session=session)
    for n in range(5):
        LineItem.objects.create(
            provider=setup["tool"].provider,
            course=setup["course"],
            label=f"Item {n}",
            score_maximum=10,
            tag=f"t{n}",
        )
    with override_settings(WAGTAIL_LTI={**settings.WAGTAIL_LTI, "PAGE_SIZE_LIMIT": 2}):
        items = ags.get_lineitems()
    labels = [item["label"] for item in items]
    assert len(labels) == 6 and len(set(labels)) == 6  # the automatic one and five more, no repeats
    container_calls = [
        url
        for method, url in session.adapter.calls
        if url.split("?")[0].endswith("/lineitems") and method == "GET"
    ]
    assert len(container_calls) == 3
    # The other tool's line item is never listed.
    assert setup["other_line_item"].label not in labels


@pytest.mark.django_db
def test_filters_and_paging_keep_case_sensitive_values(setup, client):
    """Filters survive the next link even though PyLTI1p3 lower-cases the Link header."""
    placement = setup["placement"]
    for n in range(3):
        LineItem.objects.create(
            provider=setup["tool"].provider,
            course=setup["course"],
            placement=placement,
            label=f"Part {n}",
            score_maximum=10,
            tag="Part",
        )
    LineItem.objects.create(
        provider=setup["tool"].provider,
        course=setup["course"],
        label="Other",
        score_maximum=1,
        tag="part",
    )
    ags = tool_ags(setup)
    url = f"{setup['lineitems_url']}?tag=Part&limit=2"
    seen = []
    while url:
        page, url = ags.get_lineitems_page(url)
        assert len(page) <= 2
        seen.extend(item["label"] for item in page)
    assert seen == ["Part 0", "Part 1", "Part 2"]

    by_link = ags.get_lineitems_page(
        f"{setup['lineitems_url']}?resource_link_id={placement.lti_id}"
    )[0]
    assert {item["label"] for item in by_link} == {
        setup["line_item"].label,
        "Part 0",
        "Part 1",
        "Part 2",
    }
    both = ags.get_lineitems_page(
        f"{setup['lineitems_url']}?resource_link_id={placement.lti_id}&resource_id=nothing"
    )[0]
    assert both == []

    raw = Raw(client, setup["tool"])
    response = raw.get(setup["lineitems_url"] + "?limit=1")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.ims.lis.v2.lineitemcontainer+json"
    assert 'rel="next"' in response["Link"]
    for bad in ("?limit=0", "?limit=x", "?cursor=zz", "?cursor=7b", "?cursor=5b5d"):
        assert raw.get(setup["lineitems_url"] + bad).status_code == 400


@pytest.mark.django_db
def test_the_automatic_line_item_is_described_and_protected(setup, client):
    raw = Raw(client, setup["tool"])
    response = raw.get(setup["lineitem_url"])
    assert response.status_code == 200 and response["Content-Type"] == LINEITEM_TYPE
    body = response.json()
    assert body["id"] == setup["lineitem_url"]
    assert body["resourceLinkId"] == setup["placement"].lti_id
    assert body["scoreMaximum"] == 100 and body["label"]
    assert body["startDateTime"] is None and body["endDateTime"] is None

    # The platform owns its label and maximum (they follow the resource link); the tag is applied.
    updated = raw.put(
        setup["lineitem_url"], {**body, "label": "Renamed", "scoreMaximum": 5, "tag": "final"}
    )
    assert updated.status_code == 200
    assert updated.json()["label"] == body["label"] and updated.json()["scoreMaximum"] == 100
    assert updated.json()["tag"] == "final"

    assert raw.delete(setup["lineitem_url"]).status_code == 403
    assert LineItem.objects.filter(pk=setup["line_item"].pk).exists()


@pytest.mark.django_db
def test_update_and_delete_a_tool_line_item(setup, client):
    raw = Raw(client, setup["tool"])
    created = raw.post(
        setup["lineitems_url"],
        {
            "label": "Chapter 5 Test",
            "scoreMaximum": 60,
            "resourceId": "quiz-231",
            "tag": "grade",
            "startDateTime": "2030-03-06T20:05:02Z",
            "endDateTime": "2030-04-06T22:05:03Z",
        },
        LINEITEM_TYPE,
    )
    assert created.status_code == 201 and created["Content-Type"] == LINEITEM_TYPE
    item = created.json()
    assert created["Location"] == item["id"]
    assert item["startDateTime"] == "2030-03-06T20:05:02Z" and "resourceLinkId" not in item

    # AGS §3.2.6: PUT replaces the definition; here it voids the start time and changes the label.
    put = raw.put(
        item["id"],
        {
            "label": "Chapter 5",
            "scoreMaximum": 60,
            "resourceId": "quiz-231",
            "tag": "grade",
            "endDateTime": "2030-04-06T22:05:03Z",
        },
    )
    assert put.status_code == 200
    assert put.json()["label"] == "Chapter 5" and put.json()["startDateTime"] is None
    # resourceLinkId and id cannot be changed.
    assert (
        raw.put(item["id"], {**put.json(), "resourceLinkId": setup["placement"].lti_id}).status_code
        == 400
    )
    assert raw.put(item["id"], {**put.json(), "id": setup["lineitem_url"]}).status_code == 400
    assert raw.put(item["id"], {**put.json(), "scoreMaximum": 0}).status_code == 400
    assert raw.get(item["id"]).json()["label"] == "Chapter 5"

    assert raw.delete(item["id"]).status_code == 204
    assert raw.get(item["id"]).status_code == 404


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"scoreMaximum": 10}, "label"),
        ({"label": "  ", "scoreMaximum": 10}, "label"),
        ({"label": "A"}, "scoreMaximum"),
        ({"label": "A", "scoreMaximum": 0}, "scoreMaximum"),
        ({"label": "A", "scoreMaximum": -3}, "scoreMaximum"),
        ({"label": "A", "scoreMaximum": "10"}, "scoreMaximum"),
        ({"label": "A", "scoreMaximum": 10, "startDateTime": "2030-01-01T00:00:00"}, "time zone"),
        ({"label": "A", "scoreMaximum": 10, "tag": ["x"]}, "tag"),
        ({"label": "x" * 300, "scoreMaximum": 10}, "label"),
    ],
)
@pytest.mark.django_db
def test_malformed_line_items_are_refused(setup, client, body, fragment):
    before = LineItem.objects.count()
    response = Raw(client, setup["tool"]).post(setup["lineitems_url"], body, LINEITEM_TYPE)
    assert response.status_code == 400 and fragment in response.json()["error_description"]
    assert LineItem.objects.count() == before


@pytest.mark.django_db
def test_resource_link_id_must_be_this_tools_link_in_this_course(setup, client, orgs):
    """AGS §3.2.9: otherwise 404, and nothing created."""
    raw = Raw(client, setup["tool"])
    before = LineItem.objects.count()
    for link_id in (setup["other_placement"].lti_id, "no-such-link"):
        response = raw.post(
            setup["lineitems_url"],
            {"label": "A", "scoreMaximum": 1, "resourceLinkId": link_id},
            LINEITEM_TYPE,
        )
        assert response.status_code == 404
    # The same tool's link in another course.
    elsewhere = make_course(orgs["engineering"], [make_link(setup["tool"].provider, name="Quiz 2")])
    response = raw.post(
        setup["lineitems_url"],
        {"label": "A", "scoreMaximum": 1, "resourceLinkId": placements_of(elsewhere)[0].lti_id},
        LINEITEM_TYPE,
    )
    assert response.status_code == 404
    assert LineItem.objects.count() == before


# --- Results -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_results_filter_and_paging(setup, client, settings):
    ags = tool_ags(setup)
    learners = [setup["learner"]]
    for name in ("ann", "bob"):
        user = make_learner(name)
        enroll(user, setup["course"])
        learners.append(user)
    for n, user in enumerate(learners):
        ags.put_grade(grade(user, 25 * n, 50))
    grades = ags.get_grades()
    # Re-scaled to the line item's maximum (100), AGS §3.4.4; a 0 is reported as 0.
    assert [(g["userId"], g["resultScore"], g["resultMaximum"]) for g in grades] == [
        (opaque_user_id(learners[0]), 0, 100),
        (opaque_user_id(learners[1]), 50, 100),
        (opaque_user_id(learners[2]), 100, 100),
    ]

    raw = Raw(client, setup["tool"])
    results_url = setup["lineitem_url"] + "/results"
    response = raw.get(f"{results_url}?user_id={opaque_user_id(learners[1])}")
    assert response["Content-Type"] == "application/vnd.ims.lis.v2.resultcontainer+json"
    assert [g["userId"] for g in response.json()] == [opaque_user_id(learners[1])]
    assert raw.get(f"{results_url}?user_id=unknown").json() == []

    session = routed_session()
    paging = tool_ags(setup, session=session)
    url, seen = results_url + "?limit=2", []
    while url:
        response = paging._service_connector.make_service_request(
            [f"{AGS}result.readonly"], url, accept="application/vnd.ims.lis.v2.resultcontainer+json"
        )
        seen.extend(g["userId"] for g in response["body"])
        url = response["next_page_url"]
    assert seen == [opaque_user_id(u) for u in learners]


# --- Access control: one tool, one deployment, its own courses (CVE-2023-23611) ------------------------


@pytest.mark.django_db
def test_one_tool_cannot_reach_another_tools_line_items(setup, client):
    other = Raw(client, setup["other"])
    own_container = absolute(ags_urls.ags_lineitems_url, setup["course"], setup["other"].provider)
    assert other.get(own_container).status_code == 200

    # The first tool's container, line item, scores and results: all 404 for the other tool.
    assert other.get(setup["lineitems_url"]).status_code == 404
    assert other.get(setup["lineitem_url"]).status_code == 404
    assert other.get(setup["lineitem_url"] + "/results").status_code == 404
    response = other.post(
        setup["lineitem_url"] + "/scores", score_body(setup["learner"]), SCORE_TYPE
    )
    assert response.status_code == 404
    # The first tool's line item id under the other tool's own container path.
    forged = own_container + f"/{setup['line_item'].pk}"
    assert other.get(forged).status_code == 404
    assert (
        other.post(forged + "/scores", score_body(setup["learner"]), SCORE_TYPE).status_code == 404
    )
    assert other.delete(forged).status_code == 404
    assert nothing_recorded()
    assert LineItem.objects.filter(pk=setup["line_item"].pk).exists()

    # PyLTI1p3 as the other tool, pointed at the first tool's line item.
    with pytest.raises(LtiServiceException) as refused:
        setup["other"].ags(lineitem=setup["lineitem_url"]).put_grade(grade(setup["learner"]))
    assert refused.value.response.status_code == 404
    assert nothing_recorded()


@pytest.mark.django_db
def test_a_tool_not_placed_in_a_course_cannot_reach_it(setup, client, orgs):
    stranger = make_tool(orgs["acme"], name="Stranger")
    raw = Raw(client, stranger)
    container = absolute(ags_urls.ags_lineitems_url, setup["course"], stranger.provider)
    assert raw.get(container).status_code == 404
    assert (
        raw.post(container, {"label": "Sneaky", "scoreMaximum": 1}, LINEITEM_TYPE).status_code
        == 404
    )
    assert not LineItem.objects.filter(label="Sneaky").exists()


@pytest.mark.django_db
def test_a_line_item_of_another_course_is_not_reachable_through_this_course(setup, client, orgs):
    elsewhere = make_course(
        orgs["engineering"], [make_link(setup["tool"].provider, name="Quiz 2", requires_score=True)]
    )
    far_item = results.line_item_for(placements_of(elsewhere)[0])
    raw = Raw(client, setup["tool"])
    assert raw.get(absolute(ags_urls.ags_lineitem_url, far_item)).status_code == 200
    assert raw.get(setup["lineitems_url"] + f"/{far_item.pk}").status_code == 404


@pytest.mark.django_db
def test_a_provider_no_longer_available_to_the_course_loses_access(setup, client, orgs):
    raw = Raw(client, setup["tool"])
    assert raw.get(setup["lineitem_url"]).status_code == 200
    provider = setup["tool"].provider
    provider.organization = orgs["partner"]
    provider.save()
    assert raw.get(setup["lineitem_url"]).status_code == 404


@pytest.mark.django_db
def test_scopes_and_tokens_are_enforced(setup, client):
    score_only = Raw(client, setup["tool"], scopes=[f"{AGS}score"])
    response = score_only.get(setup["lineitems_url"])
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"
    assert score_only.get(setup["lineitem_url"] + "/results").status_code == 403

    readonly = Raw(client, setup["tool"], scopes=[f"{AGS}lineitem.readonly"])
    assert readonly.get(setup["lineitems_url"]).status_code == 200
    assert (
        readonly.post(
            setup["lineitems_url"], {"label": "A", "scoreMaximum": 1}, LINEITEM_TYPE
        ).status_code
        == 403
    )
    assert readonly.delete(setup["lineitem_url"]).status_code == 403
    assert (
        readonly.post(
            setup["lineitem_url"] + "/scores", score_body(setup["learner"]), SCORE_TYPE
        ).status_code
        == 403
    )

    anonymous = client.get(setup["lineitems_url"])
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")
    bogus = client.get(setup["lineitems_url"], headers={"Authorization": "Bearer nope"})
    assert bogus.status_code == 401
    assert nothing_recorded()


@pytest.mark.django_db
def test_methods_not_allowed(setup, client):
    raw = Raw(client, setup["tool"])
    assert raw.get(setup["lineitem_url"] + "/scores").status_code == 405
    assert raw.delete(setup["lineitems_url"]).status_code == 405
    assert raw.post(setup["lineitem_url"] + "/results", {}, "application/json").status_code == 405


@pytest.mark.django_db
def test_line_item_urls_are_plain_paths(setup, client):
    """Pitfall 8: tools append "/scores" to the line item id; it must be a plain path, and
    a trailing slash (some tools add one) reaches the same endpoint without a redirect."""
    url = setup["lineitem_url"]
    assert "?" not in url and not url.endswith("/") and url == url.lower()
    assert absolute(ags_urls.ags_scores_url, setup["line_item"]) == url + "/scores"
    assert absolute(ags_urls.ags_results_url, setup["line_item"]) == url + "/results"
    raw = Raw(client, setup["tool"])
    for variant in (url, url + "/", url + "/results/", setup["lineitems_url"] + "/"):
        assert raw.get(variant).status_code == 200, variant
    assert raw.post(url + "/scores/", score_body(setup["learner"]), SCORE_TYPE).status_code == 200


@pytest.mark.django_db
def test_score_maximum_without_score_given_is_accepted_as_no_score(setup, client):
    """AGS §3.4.4 only requires scoreMaximum when scoreGiven is present; a reset that still
    carries the maximum (common in tools) clears the score instead of being refused."""
    raw = Raw(client, setup["tool"])
    url = setup["lineitem_url"] + "/scores"
    assert raw.post(url, score_body(setup["learner"], scoreGiven=6), SCORE_TYPE).status_code == 200
    reset = score_body(
        setup["learner"], scoreGiven=..., activityProgress="Initialized", gradingProgress="NotReady"
    )
    assert "scoreMaximum" in reset
    assert raw.post(url, reset, SCORE_TYPE).status_code == 200
    result = Result.objects.get()
    assert result.score_given is None and result.score_maximum is None
