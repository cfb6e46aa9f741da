"""What a tool may still do in a course: one rule (``wagtail_lti.services.access``) for every service.

A tool may use a course's services only while its provider is enabled, the course page is live,
the provider is usable by the course's organization and the page has at least one active
placement of the tool; what belongs to one activity (its line items and their results, an
``rlid``, a sourcedid) only while that activity is one of those placements. Checked here for each
service and each way of losing access, at the rule's level and at the door, with real tools:
PyLTI1p3 for AGS and NRPS (its ``AssignmentsGradesService`` and ``NamesRolesProvisioningService``,
raw HTTP with its token for PUT and DELETE, which it does not send) and the ``lti`` package's
``OutcomeRequest`` for LTI 1.1 Basic Outcomes. Every refusal: the spec's error, nothing recorded,
and a launch log row saying why. Also the cap on the line items a tool may create in a course.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.test import RequestFactory, override_settings
from lti import OutcomeRequest
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem as ToolLineItem
from pylti1p3.names_roles import NamesRolesProvisioningService

from tests.support.factories import (
    KEY,
    SECRET,
    enroll,
    make_course,
    make_learner,
    make_link,
    make_provider,
    placements_of,
)
from tests.support.lti11 import OUTCOMES_URL, tool_session
from tests.support.lti13 import ALL_AGS_SCOPES, BASE, NRPS_SCOPE, make_tool
from tests.tooling.requests_adapter import routed_session
from wagtail_lti.models import (
    LaunchLogEntry,
    LearnerActivity,
    LineItem,
    LtiProvider,
    Placement,
    Result,
    ScoreEvent,
)
from wagtail_lti.security.identifiers import opaque_user_id
from wagtail_lti.security.sourcedid import make_sourcedid
from wagtail_lti.services import access, results
from wagtail_lti.services import urls as ags_urls
from wagtail_lti.services.nrps import context_memberships_url


pytestmark = pytest.mark.django_db

LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
STATES = ["activity_removed", "page_unpublished", "provider_disabled", "other_tool_only"]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def absolute(builder, *args):
    return builder(RequestFactory().get("/"), *args)


@pytest.fixture
def world(orgs):
    """One course page with: an LTI 1.3 tool's graded activity, an LTI 1.1 tool's graded activity,
    and another tool's activity. A learner is enrolled. The 1.3 tool already holds its tokens
    (taken before anything changes, as a tool's server caches them)."""
    tool = make_tool(orgs["acme"], allow_nrps=True)
    other = make_tool(orgs["acme"], name="Other tool", allow_nrps=True)
    legacy = make_provider(orgs["acme"], name="Legacy quiz")  # LTI 1.1, KEY and SECRET
    other_legacy = make_provider(orgs["acme"], name="Other legacy", key="other-key")
    link = make_link(tool.provider, requires_score=True, score_maximum=100)
    legacy_link = make_link(legacy, name="Legacy quiz", requires_score=True)
    other_link = make_link(other.provider, name="Essay", requires_score=True)
    replacements = {
        "tool": make_link(other.provider, name="Essay 2", requires_score=True),
        "legacy": make_link(other_legacy, name="Other legacy quiz", requires_score=True),
    }
    course = make_course(
        orgs["engineering"], [link, legacy_link, other_link], title="Engineering basics"
    )
    learner = make_learner("lee")
    enroll(learner, course)
    placement, legacy_placement, other_placement = placements_of(course)
    line_item = results.line_item_for(placement)
    own_item = LineItem.objects.create(
        provider=tool.provider, course=course, placement=placement, label="Bonus", tag="bonus"
    )
    course_item = LineItem.objects.create(
        provider=tool.provider, course=course, label="Participation", tag="participation"
    )
    connector = tool.connector(routed_session(BASE))
    connector.get_access_token(ALL_AGS_SCOPES)
    connector.get_access_token([NRPS_SCOPE])
    return SimpleNamespace(
        tool=tool,
        other=other,
        legacy=legacy,
        course=course,
        learner=learner,
        placement=placement,
        legacy_placement=legacy_placement,
        other_placement=other_placement,
        line_item=line_item,
        own_item=own_item,
        course_item=course_item,
        legacy_line_item=results.line_item_for(legacy_placement),
        replacements=replacements,
        connector=connector,
        lineitems_url=absolute(ags_urls.ags_lineitems_url, course, tool.provider),
        lineitem_url=absolute(ags_urls.ags_lineitem_url, line_item),
        memberships_url=context_memberships_url(RequestFactory().get("/"), course, tool.provider),
    )


def enter(state: str, w, which: str = "tool") -> None:
    """Put the course in ``state`` for the tool ``which`` (``tool``: 1.3, ``legacy``: 1.1)."""
    page = w.course.specific
    page.refresh_from_db()
    index = 0 if which == "tool" else 1
    if state == "activity_removed":
        del page.body[index]
        page.save_revision().publish()
    elif state == "other_tool_only":
        page.body[index].value["resource_link"] = w.replacements[which]
        page.save_revision().publish()
    elif state == "page_unpublished":
        page.unpublish()
    elif state == "provider_disabled":
        provider = w.tool.provider if which == "tool" else w.legacy
        provider.is_enabled = False
        provider.save()
    else:  # pragma: no cover
        raise AssertionError(state)


REASONS = {
    "activity_removed": access.NO_ACTIVITY,
    "page_unpublished": access.NOT_LIVE,
    "provider_disabled": access.PROVIDER_DISABLED,
    "other_tool_only": access.NO_ACTIVITY,
}


def snapshot():
    """Everything a service could record."""
    return {
        "line_items": sorted(
            LineItem.objects.values_list("pk", "label", "tag", "score_maximum", "placement_id")
        ),
        "results": sorted(Result.objects.values_list("pk", "score_given", "comment")),
        "events": ScoreEvent.objects.count(),
        "activities": sorted(
            LearnerActivity.objects.values_list("pk", "status", "score", "completed_at")
        ),
    }


def last_log(kind: str) -> LaunchLogEntry:
    entry = LaunchLogEntry.objects.filter(kind=kind).order_by("-pk").first()
    assert entry is not None, f"no {kind} row in the launch log"
    return entry


def grade(user) -> Grade:
    return (
        Grade()
        .set_score_given(9)
        .set_score_maximum(10)
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_timestamp(datetime.now(UTC).isoformat())
        .set_user_id(opaque_user_id(user))
    )


# --- The rule itself --------------------------------------------------------------------------------


def test_the_rule_grants_a_placed_enabled_tool_its_active_placements(world):
    granted = access.course_access(world.tool.provider, world.course)
    assert granted.placement_ids == {world.placement.pk}
    assert set(granted.line_items()) == {world.line_item, world.own_item, world.course_item}
    granted.check_line_item(world.line_item)
    assert access.placement_access(world.legacy, world.legacy_placement).placement_ids == {
        world.legacy_placement.pk
    }


@pytest.mark.parametrize("state", STATES)
def test_the_rule_refuses_every_state_lti13(world, state):
    enter(state, world, "tool")
    with pytest.raises(access.ServiceRefused) as refused:
        access.course_access(world.tool.provider, world.course)
    assert refused.value.reason == REASONS[state]


@pytest.mark.parametrize("state", STATES)
def test_the_rule_refuses_every_state_lti11(world, state):
    enter(state, world, "legacy")
    placement = Placement.objects.get(pk=world.legacy_placement.pk)
    legacy = LtiProvider.objects.get(pk=world.legacy.pk)
    with pytest.raises(access.ServiceRefused) as refused:
        access.placement_access(legacy, placement)
    expected = {
        "activity_removed": access.ACTIVITY_REMOVED,
        "other_tool_only": access.NOT_THIS_TOOL,  # its link is another tool's now
    }.get(state, REASONS[state])
    assert refused.value.reason == expected


def test_the_rule_refuses_a_provider_the_course_may_no_longer_use(world, orgs):
    provider = LtiProvider.objects.get(pk=world.tool.provider.pk)
    provider.organization = orgs["partner"]
    provider.save()
    with pytest.raises(access.ServiceRefused) as refused:
        access.course_access(provider, world.course)
    assert refused.value.reason == access.PROVIDER_UNAVAILABLE


def test_an_activity_whose_link_the_course_may_no_longer_use_is_not_an_active_placement(
    world, orgs
):
    """The tool keeps another activity in the course; the one whose link was withdrawn is gone."""
    second = make_link(world.tool.provider, name="Quiz 2", requires_score=True)
    page = world.course.specific
    page.body.append(("lti_activity", {"resource_link": second, "title": ""}))
    page.save_revision().publish()
    world.placement.resource_link.organization = orgs["partner"]
    world.placement.resource_link.save()
    granted = access.course_access(world.tool.provider, world.course)
    assert world.placement.pk not in granted.placement_ids and len(granted.placement_ids) == 1
    with pytest.raises(access.ServiceRefused) as refused:
        granted.check_line_item(world.line_item)
    assert refused.value.reason == access.ACTIVITY_UNAVAILABLE


def test_the_rule_hides_the_line_items_of_a_removed_activity_while_others_stay(world):
    second = make_link(world.tool.provider, name="Quiz 2", requires_score=True)
    page = world.course.specific
    page.body.append(("lti_activity", {"resource_link": second, "title": ""}))
    del page.body[0]
    page.save_revision().publish()
    granted = access.course_access(world.tool.provider, world.course)
    (kept,) = granted.placements()
    visible = set(granted.line_items())
    assert world.course_item in visible and results.line_item_for(kept) in visible
    assert world.line_item not in visible and world.own_item not in visible
    for item in (world.line_item, world.own_item):
        with pytest.raises(access.ServiceRefused) as refused:
            granted.check_line_item(item)
        assert refused.value.reason == access.ACTIVITY_REMOVED


def test_the_line_item_cap_at_the_rule(world, settings):
    granted = access.course_access(world.tool.provider, world.course)
    # Three already: the automatic one, "Bonus", "Participation".
    with override_settings(
        WAGTAIL_LTI={**settings.WAGTAIL_LTI, "MAX_LINE_ITEMS_PER_COURSE_TOOL": 4}
    ):
        granted.create_line_item(label="Fourth")
        with pytest.raises(access.LineItemLimitReached):
            granted.create_line_item(label="Fifth")
    assert LineItem.objects.filter(provider=world.tool.provider, course=world.course).count() == 4
    assert not LineItem.objects.filter(label="Fifth").exists()


def test_the_rule_refuses_a_line_item_for_an_activity_that_is_not_active(world):
    granted = access.course_access(world.tool.provider, world.course)
    with pytest.raises(access.ServiceRefused):
        granted.create_line_item(label="Theirs", placement=world.other_placement)
    assert not LineItem.objects.filter(label="Theirs").exists()


# --- AGS and NRPS at the door, through PyLTI1p3 ---------------------------------------------------


def tool_ags(w) -> AssignmentsGradesService:
    return AssignmentsGradesService(
        w.connector,
        {"scope": list(ALL_AGS_SCOPES), "lineitems": w.lineitems_url, "lineitem": w.lineitem_url},
    )


def tool_nrps(w, url=None) -> NamesRolesProvisioningService:
    return NamesRolesProvisioningService(
        w.connector, {"context_memberships_url": url or w.memberships_url}
    )


def bearer(w, scopes=ALL_AGS_SCOPES) -> dict:
    return {"Authorization": f"Bearer {w.connector.get_access_token(list(scopes))}"}


def ags_calls(w, client):
    """Each AGS operation as the tool makes it; each returns the HTTP response of the refusal."""
    ags = tool_ags(w)
    own_url = absolute(ags_urls.ags_lineitem_url, w.own_item)
    course_url = absolute(ags_urls.ags_lineitem_url, w.course_item)

    def through_pylti(call):
        def run():
            with pytest.raises(LtiServiceException) as refused:
                call()
            return refused.value.response

        return run

    new_item = (
        ToolLineItem()
        .set_label("Extra credit")
        .set_score_maximum(5)
        .set_tag("extra")
        .set_resource_link_id(w.placement.lti_id)
    )
    return {
        "list line items": through_pylti(ags.get_lineitems),
        "create a line item": through_pylti(lambda: ags.find_or_create_lineitem(new_item)),
        "read a line item": through_pylti(lambda: ags.get_lineitem(own_url)),
        "read a course line item": through_pylti(lambda: ags.get_lineitem(course_url)),
        "send a score": through_pylti(lambda: ags.put_grade(grade(w.learner))),
        "read results": through_pylti(ags.get_grades),
        "update a line item": lambda: client.put(
            own_url,
            json.dumps({"label": "Renamed", "scoreMaximum": 3}),
            content_type=LINEITEM_TYPE,
            headers=bearer(w),
        ),
        "delete a line item": lambda: client.delete(own_url, headers=bearer(w)),
    }


AGS_OPERATIONS = [
    "list line items",
    "create a line item",
    "read a line item",
    "read a course line item",
    "send a score",
    "read results",
    "update a line item",
    "delete a line item",
]


def test_ags_and_nrps_work_before(world, client):
    """The same calls succeed while the rule holds (so the refusals below are the rule's)."""
    ags = tool_ags(world)
    assert len(ags.get_lineitems()) == 3
    ags.put_grade(grade(world.learner))
    assert Result.objects.filter(line_item=world.line_item).count() == 1
    assert len(ags.get_grades()) == 1
    assert tool_nrps(world).get_members()
    own_url = absolute(ags_urls.ags_lineitem_url, world.own_item)
    assert client.delete(own_url, headers=bearer(world)).status_code == 204


def expected_refusal(state: str) -> tuple[int, str, str]:
    """(HTTP status, ``error``, what the launch log says) for a 1.3 service in ``state``."""
    if state == "provider_disabled":
        return 401, "invalid_token", "not been enabled"
    reason = access.MESSAGES[REASONS[state]]
    return 404, "not_found", reason


@pytest.mark.parametrize("operation", AGS_OPERATIONS)
@pytest.mark.parametrize("state", STATES)
def test_ags_refuses_every_operation_in_every_state(world, client, state, operation):
    enter(state, world)
    before = snapshot()
    log_rows = LaunchLogEntry.objects.count()

    response = ags_calls(world, client)[operation]()

    status, error, logged = expected_refusal(state)
    assert response.status_code == status, response.content
    assert response.json()["error"] == error
    assert "Engineering" not in response.content.decode()
    assert snapshot() == before
    assert not LearnerActivity.objects.filter(status=LearnerActivity.Status.COMPLETED).exists()
    assert LaunchLogEntry.objects.count() > log_rows
    entry = last_log("ags")
    assert entry.outcome == LaunchLogEntry.Outcome.ERROR
    assert entry.http_status == status
    assert logged in entry.error


@pytest.mark.parametrize("state", STATES)
def test_nrps_refuses_in_every_state(world, state):
    enter(state, world)
    with pytest.raises(LtiServiceException) as refused:
        tool_nrps(world).get_members()
    response = refused.value.response
    status, error, logged = expected_refusal(state)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert '"members"' not in response.text
    entry = last_log("nrps")
    assert entry.outcome == LaunchLogEntry.Outcome.ERROR
    assert entry.http_status == status
    assert logged in entry.error


def test_a_disabled_tool_gets_no_new_token(world):
    enter("provider_disabled", world)
    fresh = world.tool.connector(routed_session(BASE))
    with pytest.raises(LtiServiceException) as refused:
        fresh.get_access_token(ALL_AGS_SCOPES)
    assert refused.value.response.status_code == 401
    assert refused.value.response.json()["error"] == "invalid_client"
    assert "not been enabled" in last_log("token").error


def test_a_removed_activity_is_gone_for_ags_and_nrps_while_the_tool_keeps_another(world, client):
    """The line-item level of the rule, at the door: the tool still has an activity in the
    course, so the course's services stay open, but not for the removed activity."""
    second = make_link(world.tool.provider, name="Quiz 2", requires_score=True)
    page = world.course.specific
    page.body.append(("lti_activity", {"resource_link": second, "title": ""}))
    del page.body[0]
    page.save_revision().publish()
    kept_item = results.line_item_for(Placement.objects.get(resource_link=second))
    ags = tool_ags(world)
    listed = {item["id"] for item in ags.get_lineitems()}
    assert listed == {
        absolute(ags_urls.ags_lineitem_url, kept_item),
        absolute(ags_urls.ags_lineitem_url, world.course_item),
    }
    before = snapshot()
    for name, call in ags_calls(world, client).items():
        if name in ("list line items", "read a course line item"):
            continue
        response = call()
        assert response.status_code == 404, (name, response.content)
        assert response.json()["error"] == "not_found"
        assert access.MESSAGES[access.ACTIVITY_REMOVED] in last_log("ags").error
    assert snapshot() == before
    # NRPS: the course roster still, but not the removed activity's rlid.
    assert tool_nrps(world).get_members()
    with pytest.raises(LtiServiceException) as refused:
        tool_nrps(world, world.memberships_url + f"?rlid={world.placement.lti_id}").get_members()
    assert refused.value.response.status_code == 404


def test_a_removed_activity_put_back_gets_its_line_items_and_results_back(world):
    ags = tool_ags(world)
    ags.put_grade(grade(world.learner))
    enter("activity_removed", world)
    with pytest.raises(LtiServiceException):
        ags.get_grades()
    world.course.revisions.order_by("created_at").first().publish()
    (result,) = ags.get_grades()
    assert result["resultScore"] == 90  # 9 of 10, on the line item's 100


# --- Basic Outcomes at the door, through the lti package ----------------------------------------


def outcome_request(w, monkeypatch, client) -> OutcomeRequest:
    session = tool_session(client)
    monkeypatch.setattr("lti.outcome_request.requests", SimpleNamespace(post=session.post))
    return OutcomeRequest(
        {
            "consumer_key": KEY,
            "consumer_secret": SECRET,
            "lis_outcome_service_url": OUTCOMES_URL,
            "lis_result_sourcedid": make_sourcedid(w.legacy_placement, w.learner),
        }
    )


OUTCOMES = {
    "replaceResult": lambda request: request.post_replace_result(0.9),
    "readResult": lambda request: request.post_read_result(),
    "deleteResult": lambda request: request.post_delete_result(),
}
OUTCOME_MESSAGES = {
    "activity_removed": access.MESSAGES[access.ACTIVITY_REMOVED],
    "page_unpublished": access.MESSAGES[access.NOT_LIVE],
    "provider_disabled": access.MESSAGES[access.PROVIDER_DISABLED],
    "other_tool_only": "now uses another tool",  # the sourcedid names this tool's activity
}


def test_basic_outcomes_work_before(world, monkeypatch, client):
    response = OUTCOMES["replaceResult"](outcome_request(world, monkeypatch, client))
    assert response.is_success(), response.post_response.content
    assert Result.objects.filter(line_item=world.legacy_line_item).exists()


@pytest.mark.parametrize("operation", list(OUTCOMES))
@pytest.mark.parametrize("state", STATES)
def test_basic_outcomes_refuse_every_operation_in_every_state(
    world, monkeypatch, client, state, operation
):
    """L1 (a disabled 1.1 provider's replaceResult was accepted and completed the activity) and
    L2 for LTI 1.1: failure, nothing recorded, the reason in the launch log."""
    request = outcome_request(world, monkeypatch, client)
    if operation != "replaceResult":
        assert OUTCOMES["replaceResult"](request).is_success()  # a score to read or delete
    enter(state, world, "legacy")
    before = snapshot()

    response = OUTCOMES[operation](request)

    assert response.post_response.status_code == 200
    assert response.is_failure(), response.post_response.content
    assert OUTCOME_MESSAGES[state] in str(response.description)
    assert snapshot() == before
    entry = last_log("outcomes")
    assert entry.outcome == LaunchLogEntry.Outcome.ERROR
    assert OUTCOME_MESSAGES[state] in entry.error
    if operation == "replaceResult":
        assert not Result.objects.exists()
        assert not LearnerActivity.objects.filter(status=LearnerActivity.Status.COMPLETED).exists()


# --- The line item cap at the door ----------------------------------------------------------------


def test_a_tool_cannot_create_line_items_beyond_the_cap(world, settings):
    ags = tool_ags(world)
    limit = {**settings.WAGTAIL_LTI, "MAX_LINE_ITEMS_PER_COURSE_TOOL": 4}
    with override_settings(WAGTAIL_LTI=limit):
        made = ags.find_or_create_lineitem(
            ToolLineItem().set_label("Fourth").set_score_maximum(5).set_tag("fourth")
        )
        assert made.get_id()
        before = snapshot()
        with pytest.raises(LtiServiceException) as refused:
            ags.find_or_create_lineitem(
                ToolLineItem().set_label("Fifth").set_score_maximum(5).set_tag("fifth")
            )
    response = refused.value.response
    assert response.status_code == 409
    assert response.json()["error"] == "line_item_limit_reached"
    assert "4 line items" in response.json()["error_description"]
    assert snapshot() == before
    entry = last_log("ags")
    assert entry.outcome == LaunchLogEntry.Outcome.ERROR and entry.http_status == 409
    assert "MAX_LINE_ITEMS_PER_COURSE_TOOL" in entry.error


def test_the_cap_is_per_tool_and_per_course(world, orgs, settings, client):
    """Another tool in the same course, or this tool in another course, is not held back."""
    limit = {**settings.WAGTAIL_LTI, "MAX_LINE_ITEMS_PER_COURSE_TOOL": 3}
    other_url = absolute(ags_urls.ags_lineitems_url, world.course, world.other.provider)
    second = make_course(orgs["engineering"], [world.placement.resource_link], title="Second")
    second_url = absolute(ags_urls.ags_lineitems_url, second, world.tool.provider)
    body = json.dumps({"label": "Mine", "scoreMaximum": 1})
    with override_settings(WAGTAIL_LTI=limit):
        full = client.post(
            world.lineitems_url, body, content_type=LINEITEM_TYPE, headers=bearer(world)
        )
        assert full.status_code == 409
        other_token = world.other.access_token()
        response = client.post(
            other_url,
            body,
            content_type=LINEITEM_TYPE,
            headers={"Authorization": f"Bearer {other_token}"},
        )
        assert response.status_code == 201
        response = client.post(second_url, body, content_type=LINEITEM_TYPE, headers=bearer(world))
        assert response.status_code == 201
