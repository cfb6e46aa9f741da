"""Launching safely: Wagtail's page view restrictions, requests from other sites, caching.

* A course page hidden by a view restriction (password, groups, login) launches nothing for a
  visitor the restriction does not accept (``wagtail_lti.launch.rules.check_can_launch``), at the
  LTI 1.1 launch, the LTI 1.3 login initiation and the LTI 1.3 authorization request.
* A launch records the learner's progress, so only this site's own pages may start one
  (``wagtail_lti.launch.rules.check_launch_request``): the course page's form posts a CSRF token; a
  request from elsewhere records nothing and gets a page with a button.
* Course pages are ``Cache-Control: private``; launch responses ``no-store``.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.urls import reverse
from lti import ToolProvider
from oauthlib.oauth1 import SignatureOnlyEndpoint
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoOIDCLogin
from wagtail.models import PageViewRestriction

from tests.launch.test_lti11_launch import ToolValidator
from tests.launch.test_lti13_launch import (  # noqa: F401 - fixtures (see ``lti13``)
    AUTHORIZE_PATH,
    LOGIN_URL,
    REDIRECT_URI,
    authorization_params,
    the_form,
    tool_keys,
    tool_launch,
    world,
)
from tests.support.factories import SECRET, enroll, make_course, make_link, placements_of
from tests.support.forms import first_form, read_page
from wagtail_lti.launch import targets as launch_targets
from wagtail_lti.launch.rules import (
    LaunchRefused,
    check_can_launch,
    cross_site_reason,
    passes_view_restrictions,
)
from wagtail_lti.launch.targets import launch_target
from wagtail_lti.models import LearnerActivity, PendingLaunch


pytestmark = pytest.mark.django_db

PASSWORD = "open sesame"
RESTRICTIONS = ["password", "groups", "login"]


def restrict(page, kind: str) -> PageViewRestriction:
    restriction = PageViewRestriction.objects.create(
        page=page,
        restriction_type=getattr(PageViewRestriction, kind.upper()),
        password=PASSWORD if kind == "password" else "",
    )
    if kind == "groups":
        restriction.groups.add(Group.objects.get_or_create(name="Night shift")[0])
    return restriction


def pass_restriction(client, user, page, restriction, kind: str) -> None:
    """What the visitor does to see the page: Wagtail's password form, or joining the group."""
    if kind == "password":
        url = reverse("wagtailcore_authenticate_with_password", args=[restriction.pk, page.pk])
        response = client.post(url, {"password": PASSWORD, "return_url": page.url})
        assert response.status_code == 302, response.content.decode()
    elif kind == "groups":
        user.groups.add(restriction.groups.get())


def nothing_recorded(user) -> bool:
    return not LearnerActivity.objects.filter(user=user).exists()


def launch_path(placement) -> str:
    return reverse("wagtail_lti:launch", args=[placement.lti_id])


def verified_lti11(response) -> dict[str, str]:
    """The tool's side of a 1.1 launch: the ``lti`` ToolProvider and oauthlib accept it."""
    assert response.status_code == 200, response.content.decode()
    form = first_form(response)
    tool = ToolProvider.from_unpacked_request(SECRET, form["fields"], form["action"], {})
    assert tool.is_valid_request(ToolValidator(secret=SECRET))
    from urllib.parse import urlencode

    valid, _ = SignatureOnlyEndpoint(ToolValidator(secret=SECRET)).validate_request(
        form["action"],
        "POST",
        urlencode(form["pairs"]),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert valid
    return form["fields"]


@pytest.fixture
def open_course(orgs, learner, link):
    """A course with a no-score activity (completed once opened), the learner enrolled."""
    no_score = make_link(link.provider, name="Safety video", requires_score=False)
    course = make_course(orgs["engineering"], [no_score], title="Night work")
    enroll(learner, course)
    (placement,) = placements_of(course)
    return course, placement


@pytest.fixture
def lti13(request):
    """tests/test_lti13_launch.py's world: an LTI 1.3 activity in a course, the learner enrolled
    and signed in (``lti13.client``), the tool's PyLTI1p3 configuration."""
    return request.getfixturevalue("world")


# --- The rule: view restrictions ----------------------------------------------------------------


def facts_request(user, session=None):
    request = RequestFactory().get("/")
    request.user = user
    request.session = session if session is not None else {}
    return request


def test_an_unrestricted_course_reads_no_restriction(
    open_course, learner, django_assert_num_queries
):
    course, placement = open_course
    target = launch_target(pk=placement.pk)
    assert target.course.restricted_by == ()
    with django_assert_num_queries(0):
        assert passes_view_restrictions(facts_request(learner), target.course)


@pytest.mark.parametrize("kind", RESTRICTIONS)
def test_the_rule_asks_wagtails_restriction(open_course, learner, kind):
    course, placement = open_course
    restriction = restrict(course, kind)
    target = launch_target(pk=placement.pk)  # the restriction replaced the kept target
    assert target.course.restricted_by == (course.pk,)
    request = facts_request(learner)
    if kind == "login":
        assert passes_view_restrictions(request, target.course)
        assert check_can_launch(learner, target, request)
        return
    assert not passes_view_restrictions(request, target.course)
    assert not passes_view_restrictions(None, target.course)  # no session: refused
    with pytest.raises(LaunchRefused) as refused:
        check_can_launch(learner, target, request)
    assert refused.value.code == "page_restricted" and refused.value.status == 403
    if kind == "password":
        session = {restriction.passed_view_restrictions_session_key: [restriction.pk]}
        request = facts_request(learner, session)
    else:
        learner.groups.add(restriction.groups.get())
    assert passes_view_restrictions(request, target.course)
    assert check_can_launch(learner, target, request).user == learner


def test_a_restriction_on_an_ancestor_applies(orgs, learner, link):
    from tests.support.factories import site_root

    section = site_root().add_child(title="Members only", slug="members-only")
    course = make_course(orgs["engineering"], [link], title="Deep course", parent=section)
    enroll(learner, course)
    (placement,) = placements_of(course)
    restrict(section, "groups")
    target = launch_target(pk=placement.pk)
    assert target.course.restricted_by == (section.pk,)
    with pytest.raises(LaunchRefused):
        check_can_launch(learner, target, facts_request(learner))


def test_changing_a_restriction_replaces_the_kept_target(open_course, learner):
    course, placement = open_course
    restriction = restrict(course, "groups")
    assert launch_target(pk=placement.pk).course.restricted_by == (course.pk,)
    generation = launch_targets._generation()
    restriction.groups.add(Group.objects.create(name="Day shift"))
    assert launch_targets._generation() != generation
    restriction.delete()
    assert launch_target(pk=placement.pk).course.restricted_by == ()


# --- The doors: LTI 1.1 launch ------------------------------------------------------------------


@pytest.mark.parametrize("kind", RESTRICTIONS)
def test_lti11_launch_of_a_restricted_course(client, course, learner, kind):
    enroll(learner, course)
    (placement,) = placements_of(course)
    restriction = restrict(course, kind)
    client.force_login(learner)
    if kind != "login":
        refused = client.post(launch_path(placement))
        assert refused.status_code == 403
        assert "is restricted" in refused.content.decode()
        assert "page_restricted" in refused.content.decode()
        assert nothing_recorded(learner)
        pass_restriction(client, learner, course, restriction, kind)
    params = verified_lti11(client.post(launch_path(placement)))
    assert params["resource_link_id"] == placement.lti_id
    assert LearnerActivity.objects.get(user=learner).launch_count == 1


# --- The doors: LTI 1.3 login initiation and authorization request ------------------------------


def tool_login(lti13, init):
    """PyLTI1p3's login endpoint: redirects the browser to our authorization endpoint."""
    request = RequestFactory().post("/lti/login/", data=init, HTTP_HOST="tool.example", secure=True)
    response = DjangoOIDCLogin(
        request, lti13.tool_conf(), launch_data_storage=DjangoCacheDataStorage()
    ).redirect(REDIRECT_URI)
    assert response.status_code == 302
    return response


@pytest.mark.parametrize("kind", RESTRICTIONS)
def test_lti13_login_initiation_of_a_restricted_course(lti13, kind):
    restriction = restrict(lti13.course, kind)
    if kind != "login":
        refused = lti13.client.post(launch_path(lti13.placement))
        assert refused.status_code == 403 and "is restricted" in refused.content.decode()
        assert not PendingLaunch.objects.exists()
        assert nothing_recorded(lti13.learner)
        pass_restriction(lti13.client, lti13.learner, lti13.course, restriction, kind)
    init = the_form(lti13.client.post(launch_path(lti13.placement)))["fields"]
    login = tool_login(lti13, init)
    answer = the_form(lti13.client.get(login["Location"]))
    message_launch = tool_launch(lti13, answer["fields"], login)
    assert message_launch.get_launch_data()["sub"] == init["login_hint"]  # PyLTI1p3 accepts it
    assert LearnerActivity.objects.get(user=lti13.learner).launch_count == 1


@pytest.mark.parametrize("kind", ["password", "groups"])
def test_lti13_authorization_after_the_page_became_restricted(lti13, kind):
    """Restricted between the click and the tool's authentication request: access_denied, posted
    back to the tool, nothing recorded, the message hint still unused."""
    init = the_form(lti13.client.post(launch_path(lti13.placement)))["fields"]
    restrict(lti13.course, kind)
    response = lti13.client.get(AUTHORIZE_PATH, authorization_params(init))
    form = the_form(response)
    assert form["action"] == REDIRECT_URI
    assert form["fields"]["error"] == "access_denied"
    assert "restricted" in form["fields"]["error_description"]
    assert "id_token" not in form["fields"]
    assert nothing_recorded(lti13.learner)
    assert not PendingLaunch.objects.filter(used_at__isnull=False).exists()


# --- Requests from other sites ------------------------------------------------------------------


def csrf_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def course_page_form(client, course) -> dict:
    """The activity's launch form as the course page renders it (action, method, token)."""
    page = client.get(course.url)
    (form,) = [form for form in read_page(page).forms if "/lti/launch/" in form["action"]]
    return {
        "action": form["action"],
        "method": form["method"],
        "token": form["fields"]["csrfmiddlewaretoken"],
    }


def test_the_rule_on_requests():
    factory = RequestFactory()
    assert cross_site_reason(factory.get("/", headers={"Sec-Fetch-Site": "same-origin"})) is None
    for site in ("cross-site", "same-site", "none", None):
        headers = {"Sec-Fetch-Site": site} if site else {}
        assert cross_site_reason(factory.get("/", headers=headers))
    assert cross_site_reason(factory.post("/"))  # no CSRF cookie, no token


def test_the_course_pages_form_posts_a_token_and_launches(open_course, learner):
    course, placement = open_course
    client = csrf_client(learner)
    form = course_page_form(client, course)
    assert form["method"] == "post" and form["action"] == launch_path(placement)
    response = client.post(form["action"], {"csrfmiddlewaretoken": form["token"]})
    verified_lti11(response)
    assert LearnerActivity.objects.get(user=learner).status == "completed"


@pytest.mark.parametrize(
    "attempt",
    [
        "POST without token",
        "POST with a token from another origin",
        "GET from another site",
        "GET without a sign",
    ],
)
def test_a_request_from_elsewhere_records_nothing(open_course, learner, attempt):
    """A no-score activity is completed when launched: another site's form, link or image must
    not launch it for the signed-in learner."""
    course, placement = open_course
    client = csrf_client(learner)
    path = launch_path(placement)
    if attempt == "POST without token":
        response = client.post(path)
    elif attempt == "POST with a token from another origin":
        token = course_page_form(client, course)["token"]
        response = client.post(
            path,
            {"csrfmiddlewaretoken": token},
            secure=True,
            headers={"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"},
        )
    elif attempt == "GET from another site":
        response = client.get(path, headers={"Sec-Fetch-Site": "cross-site"})
    else:
        response = client.get(path)
    assert response.status_code == 403
    html = response.content.decode()
    assert "did not come from a course page of this site" in html
    assert "cross_site" in html
    assert "oauth_signature" not in html
    assert nothing_recorded(learner)
    # The page's button starts the activity: a POST with a token, from this site.
    button = the_form(response)
    assert button["method"] == "post" and button["action"] == path
    launched = client.post(path, {"csrfmiddlewaretoken": button["fields"]["csrfmiddlewaretoken"]})
    verified_lti11(launched)
    assert LearnerActivity.objects.get(user=learner).status == "completed"


def test_a_get_from_this_sites_pages_still_launches(open_course, learner):
    """A site's own activity template with a GET form, or a link on our pages."""
    course, placement = open_course
    response = csrf_client(learner).get(
        launch_path(placement), headers={"Sec-Fetch-Site": "same-origin"}
    )
    verified_lti11(response)


def test_lti13_initiation_from_elsewhere_starts_nothing(lti13):
    client = csrf_client(lti13.learner)
    response = client.get(launch_path(lti13.placement), headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert LOGIN_URL not in response.content.decode()
    assert not PendingLaunch.objects.exists()
    assert client.post(launch_path(lti13.placement)).status_code == 403
    assert not PendingLaunch.objects.exists()
    assert nothing_recorded(lti13.learner)


# --- Caching ------------------------------------------------------------------------------------


@pytest.mark.parametrize("visitor", ["anonymous", "enrolled"])
def test_course_pages_are_private(client, open_course, learner, visitor):
    course, _placement = open_course
    if visitor == "enrolled":
        client.force_login(learner)
    response = client.get(course.url)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def test_a_public_cache_control_set_by_the_site_becomes_private():
    from django.http import HttpResponse

    from wagtail_lti.courses.framing import private_to_the_visitor

    response = HttpResponse()
    response["Cache-Control"] = "public, max-age=600"
    private_to_the_visitor(response)
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert directives == {"private", "max-age=600"}


def test_launch_responses_are_not_stored(lti13, client, open_course, learner):
    course, placement = open_course
    client.force_login(learner)
    responses = {
        "1.1 form": client.post(launch_path(placement)),
        "refused": client.get(launch_path(placement)),
    }
    init = the_form(lti13.client.post(launch_path(lti13.placement)))["fields"]
    responses["1.3 initiation"] = lti13.client.post(launch_path(lti13.placement))
    responses["1.3 authorization"] = lti13.client.get(AUTHORIZE_PATH, authorization_params(init))
    for name, response in responses.items():
        assert "no-store" in response["Cache-Control"], name
