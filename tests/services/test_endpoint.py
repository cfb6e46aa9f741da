"""One door for the tool-facing JSON services: ``services.endpoint.service_endpoint``.

Every AGS and NRPS endpoint is that decorator around a thin view; the line items, scores,
results and roster are services (``services/ags.py``, ``services/nrps.py``). Checked here:

* the decorator itself (method, bearer token and scope, the URL's provider and course through the
  access rule, the answers of ``NotFound``, ``ServiceRefused``, ``AgsError``, ``NrpsError``, the
  launch log), on a view of its own, through Django's test client and through PyLTI1p3's
  ``ServiceConnector`` as a new LTI service would be called;
* that every AGS and NRPS route is served through it;
* the services at their level, without HTTP: what they return and what they refuse.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.http import JsonResponse
from django.test import RequestFactory
from django.urls import URLResolver, include, path, re_path
from pylti1p3.exception import LtiServiceException

from tests.support.factories import enroll, make_course, make_learner, make_link, placements_of
from tests.support.lti13 import ALL_AGS_SCOPES, BASE, NRPS_SCOPE, make_tool
from tests.tooling.requests_adapter import routed_session
from wagtail_lti import urls as lti_urls
from wagtail_lti.lti import ags as ags_format
from wagtail_lti.lti import nrps as nrps_format
from wagtail_lti.models import LaunchLogEntry, LineItem, Result
from wagtail_lti.security.identifiers import opaque_user_id
from wagtail_lti.services import access, results
from wagtail_lti.services import ags as ags_service
from wagtail_lti.services import nrps as nrps_service
from wagtail_lti.services.endpoint import NotFound, page_of, service_endpoint


pytestmark = pytest.mark.django_db

NOT_FOUND = "No such thing for this tool."


# --- A new service, as a site would add one ---------------------------------------------------


@service_endpoint("nrps", {"GET": (NRPS_SCOPE,)}, not_found=NOT_FOUND, action="GET things")
def things(request, access: access.CourseAccess, thing_id: int):
    """A service of its own: ``thing_id`` 0 is unknown, 1 a bad request, 2 an AGS conflict, 3 a
    placement the tool may not use; else the course's title and the tool's placements."""
    if thing_id == 0:
        raise NotFound
    if thing_id == 1:
        raise nrps_format.NrpsError("thing is not valid.")
    if thing_id == 2:
        raise ags_format.AgsError("thing conflicts.", status=409, error="conflict")
    if thing_id == 3:
        access.check_placement(None)
    return JsonResponse(
        {"course": access.course.title, "thing": thing_id, "placements": len(access.placement_ids)}
    )


urlpatterns = [
    re_path(
        r"^things/(?P<course_id>[0-9]+)/(?P<provider_id>[0-9]+)/(?P<thing_id>[0-9]+)$",
        things,
        name="things",
    ),
    path("lti/", include(lti_urls)),
]


@pytest.fixture
def w(orgs, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    tool = make_tool(orgs["acme"], allow_nrps=True)
    other = make_tool(orgs["acme"], name="Other tool", allow_nrps=True)
    link = make_link(tool.provider, requires_score=True, score_maximum=10)
    other_link = make_link(other.provider, name="Essay", requires_score=True)
    course = make_course(orgs["engineering"], [link, other_link], title="Engineering basics")
    empty = make_course(orgs["engineering"], [other_link], title="Other course")
    placement, other_placement = placements_of(course)
    lee = make_learner("lee")
    ian = make_learner("ian", first_name="Ian")
    enroll(lee, course)
    enroll(ian, course, role="instructor")
    return SimpleNamespace(
        tool=tool,
        other=other,
        course=course,
        empty=empty,
        placement=placement,
        other_placement=other_placement,
        auto=results.line_item_for(placement),
        lee=lee,
        ian=ian,
        access=access.course_access(tool.provider, course),
    )


def thing_url(course, provider, thing_id) -> str:
    return f"/things/{course.pk}/{provider.pk}/{thing_id}"


def last_log() -> LaunchLogEntry:
    return LaunchLogEntry.objects.order_by("-pk").first()


# --- The decorator, through Django's test client --------------------------------------------------


@pytest.fixture
def things_urls(settings):
    settings.ROOT_URLCONF = __name__


def get(client, url, tool=None, scopes=(NRPS_SCOPE,), method="get"):
    headers = {} if tool is None else {"Authorization": f"Bearer {tool.access_token(scopes)}"}
    return getattr(client, method)(url, headers=headers)


def test_the_decorator_hands_the_view_the_tools_access_and_logs_it(w, client, things_urls):
    response = get(client, thing_url(w.course, w.tool.provider, 7), w.tool)
    assert response.status_code == 200
    assert response.json() == {"course": "Engineering basics", "thing": 7, "placements": 1}
    entry = last_log()
    assert (entry.kind, entry.outcome, entry.action, entry.http_status) == (
        "nrps",
        "ok",
        "GET things",
        200,
    )
    assert (entry.provider_id, entry.course_id) == (w.tool.provider.pk, w.course.pk)


def test_the_decorator_refuses_other_methods_before_the_token(w, client, things_urls):
    response = get(client, thing_url(w.course, w.tool.provider, 7), method="post")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json()["error"] == "method_not_allowed"
    assert response["Cache-Control"] == "no-store"
    assert last_log().error == "method_not_allowed: POST is not allowed here."


def test_the_decorator_asks_for_a_token_with_the_scope(w, client, things_urls):
    url = thing_url(w.course, w.tool.provider, 7)
    missing = get(client, url)
    assert missing.status_code == 401
    assert missing.json()["error"] == "invalid_token"
    assert missing["WWW-Authenticate"].startswith('Bearer realm="lti"')
    wrong_scope = get(client, url, w.tool, scopes=ALL_AGS_SCOPES)
    assert wrong_scope.status_code == 403
    assert wrong_scope.json()["error"] == "insufficient_scope"
    entry = last_log()
    assert (entry.outcome, entry.provider_id, entry.course_id) == ("error", None, None)


@pytest.mark.parametrize(
    "case, logged",
    [
        ("another tool's URL", f"not_found: {NOT_FOUND}"),
        ("no such page", f"not_found: {NOT_FOUND}"),
        ("no activity of the tool", f"not_found: {access.MESSAGES[access.NO_ACTIVITY]}"),
        ("view: not found", f"not_found: {NOT_FOUND}"),
        ("view: refused", f"not_found: {access.MESSAGES[access.ACTIVITY_REMOVED]}"),
    ],
)
def test_every_refusal_after_the_token_is_the_endpoints_404(w, client, things_urls, case, logged):
    urls = {
        "another tool's URL": thing_url(w.course, w.other.provider, 7),
        "no such page": f"/things/999999/{w.tool.provider.pk}/7",
        "no activity of the tool": thing_url(w.empty, w.tool.provider, 7),
        "view: not found": thing_url(w.course, w.tool.provider, 0),
        "view: refused": thing_url(w.course, w.tool.provider, 3),
    }
    response = get(client, urls[case], w.tool)
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "error_description": NOT_FOUND}
    assert "Engineering" not in response.content.decode()
    entry = last_log()
    assert (entry.kind, entry.outcome, entry.http_status) == ("nrps", "error", 404)
    assert entry.error == logged
    assert entry.provider_id == w.tool.provider.pk


@pytest.mark.parametrize(
    "thing_id, status, error, description",
    [(1, 400, "invalid_request", "thing is not valid."), (2, 409, "conflict", "thing conflicts.")],
)
def test_protocol_errors_are_answered_with_their_status(
    w, client, things_urls, thing_id, status, error, description
):
    response = get(client, thing_url(w.course, w.tool.provider, thing_id), w.tool)
    assert response.status_code == status
    assert response.json() == {"error": error, "error_description": description}
    assert last_log().error == f"{error}: {description}"


# --- The decorator, through PyLTI1p3 ----------------------------------------------------------------


def test_a_new_service_is_called_by_pylti1p3_like_ags_and_nrps(w, things_urls):
    connector = w.tool.connector(routed_session(BASE))
    answer = connector.make_service_request(
        [NRPS_SCOPE], BASE + thing_url(w.course, w.tool.provider, 5)
    )
    assert answer["body"]["thing"] == 5
    with pytest.raises(LtiServiceException) as refused:
        connector.make_service_request([NRPS_SCOPE], BASE + thing_url(w.empty, w.tool.provider, 5))
    assert refused.value.response.status_code == 404
    assert refused.value.response.json()["error_description"] == NOT_FOUND


# --- Every AGS and NRPS route is served through the decorator ---------------------------------------


def _routes(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns)
        else:
            yield pattern


def test_every_ags_and_nrps_route_is_a_service_endpoint():
    kinds = {
        route.name: getattr(route.callback, "service_endpoint", None)
        for route in _routes(lti_urls.urlpatterns)
        if route.name.startswith(("ags_", "nrps_"))
    }
    assert kinds == {
        "ags_lineitems": "ags",
        "ags_lineitem": "ags",
        "ags_scores": "ags",
        "ags_results": "ags",
        "nrps_memberships": "nrps",
    }


# --- The AGS service -------------------------------------------------------------------------------


def item_data(**fields) -> ags_format.LineItemData:
    return ags_format.parse_line_item({"label": "Extra", "scoreMaximum": 5, **fields})


def test_ags_line_items_of_the_tool_paged(w):
    own = ags_service.create_line_item(w.access, item_data(tag="extra"))
    assert (own.provider, own.course_id, own.placement) == (w.tool.provider, w.course.pk, None)
    linked = ags_service.create_line_item(
        w.access, item_data(resourceLinkId=w.placement.lti_id, tag="extra")
    )
    assert linked.placement == w.placement
    page, state = ags_service.line_items_page(w.access, {}, 2, 0)
    assert page == [w.auto, own]
    assert state == {"f": {}, "l": 2, "a": own.pk}
    page, state = ags_service.line_items_page(w.access, {}, 2, own.pk)
    assert (page, state) == ([linked], None)
    tagged, _ = ags_service.line_items_page(w.access, {"tag": "extra"}, 10, 0)
    assert tagged == [own, linked]
    by_link, _ = ags_service.line_items_page(
        w.access, {"resource_link_id": w.placement.lti_id}, 10, 0
    )
    assert by_link == [w.auto, linked]
    assert ags_service.line_item(w.access, own.pk) == own


def test_ags_line_items_the_tool_may_not_name(w, settings):
    other_item = results.line_item_for(w.other_placement)
    for pk in (other_item.pk, 999999):
        with pytest.raises(NotFound):
            ags_service.line_item(w.access, pk)
    with pytest.raises(NotFound):
        ags_service.create_line_item(w.access, item_data(resourceLinkId="no-such-link"))
    with pytest.raises(access.ServiceRefused) as refused:
        ags_service.create_line_item(w.access, item_data(resourceLinkId=w.other_placement.lti_id))
    assert refused.value.reason == access.NOT_THIS_TOOL
    settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, "MAX_LINE_ITEMS_PER_COURSE_TOOL": 1}
    with pytest.raises(ags_format.AgsError) as capped:
        ags_service.create_line_item(w.access, item_data())
    assert (capped.value.status, capped.value.error) == (409, "line_item_limit_reached")
    assert LineItem.objects.filter(provider=w.tool.provider).count() == 1


def test_ags_update_and_delete(w):
    own = ags_service.create_line_item(w.access, item_data())
    url = "https://lms/own"
    ags_service.update_line_item(own, item_data(label="Renamed", tag="t"), given_id=url, own_id=url)
    own.refresh_from_db()
    assert (own.label, own.tag) == ("Renamed", "t")
    with pytest.raises(ags_format.AgsError, match="id cannot be changed"):
        ags_service.update_line_item(own, item_data(), given_id="https://lms/x", own_id=url)
    with pytest.raises(ags_format.AgsError, match="resourceLinkId cannot be changed"):
        ags_service.update_line_item(
            own, item_data(resourceLinkId=w.placement.lti_id), given_id=None, own_id=url
        )
    # The automatic line item keeps the label and maximum of its resource link.
    ags_service.update_line_item(
        w.auto, item_data(label="Mine now", tag="t2"), given_id="", own_id=url
    )
    w.auto.refresh_from_db()
    assert (w.auto.label, w.auto.score_maximum, w.auto.tag) == ("Quiz 1", 10, "t2")
    with pytest.raises(ags_format.AgsError) as forbidden:
        ags_service.delete_line_item(w.auto)
    assert (forbidden.value.status, forbidden.value.error) == (403, "forbidden")
    ags_service.delete_line_item(own)
    assert not LineItem.objects.filter(pk=own.pk).exists()
    assert LineItem.objects.filter(pk=w.auto.pk).exists()


def score(user_id: str, when: datetime, given: float = 7) -> ags_format.ScoreData:
    return ags_format.parse_score(
        {
            "userId": user_id,
            "scoreGiven": given,
            "scoreMaximum": 10,
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": when.isoformat(),
        }
    )


def test_ags_scores_and_results(w):
    now = datetime.now(UTC)
    first = score(opaque_user_id(w.lee), now)
    user = ags_service.score_user(w.access, first)
    assert user == w.lee
    ags_service.record_score(w.auto, user, first)
    with pytest.raises(ags_format.AgsError) as stale:
        ags_service.record_score(w.auto, user, score(opaque_user_id(w.lee), now, given=1))
    assert (stale.value.status, stale.value.error) == (409, "conflict")
    assert Result.objects.get(line_item=w.auto, user=w.lee).score_given == 7
    stranger = make_learner("sam")
    with pytest.raises(ags_format.AgsError, match="not a member"):
        ags_service.score_user(w.access, score(opaque_user_id(stranger), now))
    with pytest.raises(ags_format.AgsError):
        ags_service.score_user(w.access, score(opaque_user_id(w.lee), now + timedelta(hours=1)))
    ags_service.record_score(w.auto, w.ian, score(opaque_user_id(w.ian), now))
    rows, state = ags_service.results_page(w.auto, {}, 1, 0)
    assert [row.user for row in rows] == [w.lee]
    assert state["a"] == rows[0].pk
    rows, state = ags_service.results_page(w.auto, {}, 1, state["a"])
    assert ([row.user for row in rows], state) == ([w.ian], None)
    mine, _ = ags_service.results_page(w.auto, {"user_id": opaque_user_id(w.ian)}, 10, 0)
    assert [row.user for row in mine] == [w.ian]
    nobody, _ = ags_service.results_page(w.auto, {"user_id": "unknown"}, 10, 0)
    assert nobody == []


# --- The NRPS service ------------------------------------------------------------------------------


def test_nrps_members_paged_and_filtered(w):
    request = RequestFactory().get("/")
    members, state = nrps_service.members_page(request, w.access, {}, 1, 0)
    assert [m["user_id"] for m in members] == [opaque_user_id(w.lee)]
    assert "message" not in members[0]
    members, state = nrps_service.members_page(request, w.access, {}, 1, state["a"])
    assert [m["roles"] for m in members] == [[nrps_format.MEMBERSHIP_ROLE + "Instructor"]]
    assert state is None
    learners, _ = nrps_service.members_page(request, w.access, {"role": "Learner"}, 10, 0)
    assert [m["user_id"] for m in learners] == [opaque_user_id(w.lee)]
    with pytest.raises(nrps_format.NrpsError):
        nrps_service.members_page(request, w.access, {"role": " "}, 10, 0)
    placement = nrps_service.link_placement(w.access, w.placement.lti_id)
    assert placement == w.placement
    linked, _ = nrps_service.members_page(
        request, w.access, {"rlid": placement.lti_id}, 10, 0, placement=placement
    )
    assert all("message" in m for m in linked)
    container = nrps_service.membership_container("https://lms/roster", w.course, linked)
    assert container["id"] == "https://lms/roster"
    assert container["context"]["title"] == "Engineering basics"
    assert container["members"] == linked


def test_nrps_links_the_tool_may_not_name(w):
    assert nrps_service.link_placement(w.access, None) is None
    with pytest.raises(NotFound):
        nrps_service.link_placement(w.access, "no-such-link")
    with pytest.raises(access.ServiceRefused) as refused:
        nrps_service.link_placement(w.access, w.other_placement.lti_id)
    assert refused.value.reason == access.NOT_THIS_TOOL


def test_page_of_pages_by_primary_key(w):
    rows = LineItem.objects.filter(course_id=w.course.pk)
    everything = list(rows.order_by("pk"))
    page, state = page_of(rows, {"tag": "x"}, 1)
    assert (page, state) == (everything[:1], {"f": {"tag": "x"}, "l": 1, "a": everything[0].pk})
    assert page_of(rows, {}, len(everything)) == (everything, None)
