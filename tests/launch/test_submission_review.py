"""Submission Review 1.0: the ``LtiSubmissionReviewRequest``, with PyLTI1p3 as the tool.

An editor of the course's organization, an instructor of the course or the learner themself posts
to ``wagtail_lti:review_submission``; the tool (PyLTI1p3's ``DjangoOIDCLogin`` and
``DjangoMessageLaunch``, which validates this message type with its
``SubmissionReviewLaunchValidator``) goes through the OIDC flow and receives the id_token, checked
with our JWKS. The rule is ``services/submission_review.py: check_review`` / ``may_review``; its
doors: the review door, the authorization step, the results report, the course page and the
include ``wagtail_lti/courses/includes/result_actions.html``.

Spec sections cited: LTI Submission Review Service 1.0, "LtiSubmissionReviewRequest" (message type,
the ``for_user`` claim, the AGS claim with ``lineitem``, resource link and context claims,
``target_link_uri``, ``custom``) and "Line item extension" (``reviewableStatus``, ``url``,
``custom``); LTI Core 1.3 §4.1 (OIDC), §5.3 (the shared claims).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.support.factories import enroll, make_course, make_learner, make_link, make_provider
from tests.support.forms import read_page, the_form
from tests.support.lti13 import (
    decode_platform_token,
    oidc_authorization_params,
    pylti_launch,
    pylti_login,
)
from tests.support.world import ISSUER, World
from tests.tooling.lti13_tool import make_key_pair
from wagtail_lti.lti.lti13 import AGS_ENDPOINT_CLAIM, LTI_CLAIM
from wagtail_lti.models import LaunchLogEntry, LearnerActivity, PendingLaunch, Placement
from wagtail_lti.security.identifiers import context_id, opaque_user_id
from wagtail_lti.services import results
from wagtail_lti.services.submission_review import (
    EDITOR,
    INSTRUCTOR,
    LEARNER,
    ReviewRefused,
    check_review,
    may_review,
)


TOOL = "https://tool.example"
LOGIN_URL = f"{TOOL}/lti/login/"
REDIRECT_URI = f"{TOOL}/lti/launch/"
ACTIVITY_URL = f"{TOOL}/activities/essay"
REVIEW_URL = f"{TOOL}/review?essay=7"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
DECLARATION = {
    "reviewableStatus": ["Submitted", "FullyGraded"],
    "url": REVIEW_URL,
    "custom": {"action": "review", "level": "expert"},
}

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def tool_keys():
    return make_key_pair()


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def score(line_item, user, *, activity="Submitted", grading="Pending"):
    return results.record_score(
        line_item,
        user,
        score_given=None,
        score_maximum=None,
        activity_progress=activity,
        grading_progress=grading,
        timestamp=datetime.now(UTC),
        comment="",
        source="ags",
    )


@pytest.fixture
def world(orgs, tool_keys, settings, make_editor):
    """An LTI 1.3 tool (name and email not sent) with a graded essay in an Acme course; the tool
    declared the essay's line item reviewable; Lena submitted; Ed edits Acme."""
    settings.ALLOWED_HOSTS = ["testserver", "tool.example"]
    acme = orgs["acme"]
    provider = make_provider(
        acme,
        name="Essay tool",
        version="1.3",
        key="",
        secret=None,
        login_url=LOGIN_URL,
        launch_url=f"{TOOL}/lti/",
        redirect_uris=REDIRECT_URI,
        public_key_pem=tool_keys[1],
        custom_parameters="custom_unit=3",
        send_name=False,
        send_email=False,
        allow_ags=True,
    )
    link = make_link(
        provider,
        name="Essay",
        url=ACTIVITY_URL,
        custom_parameters="custom_level=beginner",
        requires_score=True,
        score_maximum=10,
    )
    course = make_course(acme, [link], title="Writing", code="WRI-1")
    placement = Placement.objects.get(page=course)
    line_item = results.line_item_for(placement)
    line_item.submission_review = dict(DECLARATION)
    line_item.save()
    learner = make_learner("lena", first_name="Lena", last_name="Lind")
    enroll(learner, course)
    result = score(line_item, learner)
    editor = make_editor("ed", acme)
    client = Client()
    client.force_login(editor)
    w = World(
        provider=provider,
        link=link,
        course=course,
        placement=placement,
        learner=learner,
        editor=editor,
        client=client,
        line_item=line_item,
        tool_private=tool_keys[0],
        tool_public=tool_keys[1],
    )
    w.result = result
    return w


def review_url(result) -> str:
    return reverse("wagtail_lti:review_submission", args=[result.pk])


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def review(world, client=None):
    """The reviewer posts "Review submission", PyLTI1p3 logs in, we answer with the id_token and
    PyLTI1p3 validates it: (login initiation, id_token form, PyLTI1p3's message launch)."""
    client = client or world.client
    conf = world.tool_conf()
    answer = client.post(review_url(world.result))
    assert answer.status_code == 200, answer.content.decode()
    init = the_form(answer)
    assert init["action"] == LOGIN_URL
    login = pylti_login(init["fields"], conf, REDIRECT_URI)
    assert login["Location"].startswith(ISSUER + reverse("wagtail_lti:lti13_authorize"))
    token_page = client.get(login["Location"])
    assert token_page.status_code == 200, token_page.content.decode()
    form = the_form(token_page)
    assert form["action"] == REDIRECT_URI
    return init["fields"], form["fields"], pylti_launch(form["fields"], login, conf)


# --- The message, end to end ------------------------------------------------------------------------


def test_an_editor_reviews_a_submission_and_pylti1p3_accepts_the_message(world):
    init, fields, launch = review(world)
    data = launch.get_launch_data()  # PyLTI1p3's SubmissionReviewLaunchValidator passed
    assert launch.is_submission_review_launch()
    assert launch.check_teacher_access()
    claims = decode_platform_token(fields["id_token"], world.provider.client_id)
    assert claims == data

    # "LtiSubmissionReviewRequest": the reviewer is the subject, the learner is for_user.
    assert data[LTI_CLAIM + "message_type"] == "LtiSubmissionReviewRequest"
    assert data["sub"] == opaque_user_id(world.editor) == init["login_hint"]
    assert data[LTI_CLAIM + "roles"] == [MEMBERSHIP + "Instructor"]
    assert launch.get_submission_review_user() == {
        "user_id": opaque_user_id(world.learner),
        "roles": [MEMBERSHIP + "Learner"],
    }
    # Privacy: the provider receives neither names nor emails, of the learner or the reviewer.
    for claim in ("name", "given_name", "family_name", "email"):
        assert claim not in data
    # The line item (AGS claim), the resource link and the course.
    assert data[AGS_ENDPOINT_CLAIM]["lineitem"] == ISSUER + world.ags(
        "ags_lineitem", line_item_id=world.line_item.pk
    )
    assert data[AGS_ENDPOINT_CLAIM]["lineitems"] == ISSUER + world.lineitems_path
    assert data[LTI_CLAIM + "resource_link"]["id"] == world.placement.lti_id
    assert data[LTI_CLAIM + "context"]["id"] == context_id(world.course)
    assert data[LTI_CLAIM + "context"]["label"] == "WRI-1"
    # target_link_uri: the declaration's url; custom: the activity's with the declaration's over.
    assert data[LTI_CLAIM + "target_link_uri"] == REVIEW_URL == init["target_link_uri"]
    assert data[LTI_CLAIM + "custom"] == {"unit": "3", "level": "expert", "action": "review"}

    # A review is no launch of the learner's: their progress is untouched; the log has the row.
    assert not LearnerActivity.objects.filter(user=world.editor).exists()
    entry = LaunchLogEntry.objects.filter(action__contains="LtiSubmissionReviewRequest").last()
    assert entry is not None and entry.outcome == "ok"


def test_with_privacy_allowing_it_for_user_has_the_learners_name_and_email(world):
    world.provider.send_name = True
    world.provider.send_email = True
    world.provider.save()
    _init, _fields, launch = review(world)
    for_user = launch.get_submission_review_user()
    assert for_user["user_id"] == opaque_user_id(world.learner)
    assert for_user["name"] == "Lena Lind"
    assert for_user["given_name"] == "Lena" and for_user["family_name"] == "Lind"
    assert for_user["email"] == "lena@example.com"


def test_without_a_url_the_review_goes_to_the_activitys_url(world):
    world.line_item.submission_review = {"reviewableStatus": []}
    world.line_item.save()
    _init, _fields, launch = review(world)
    data = launch.get_launch_data()
    assert data[LTI_CLAIM + "target_link_uri"] == ACTIVITY_URL
    assert data[LTI_CLAIM + "custom"] == {"unit": "3", "level": "beginner"}


def test_an_instructor_of_the_course_reviews(world):
    teacher = make_learner("tom", first_name="Tom")
    enroll(teacher, world.course, role="instructor")
    _init, _fields, launch = review(world, client_of(teacher))
    data = launch.get_launch_data()
    assert data["sub"] == opaque_user_id(teacher)
    assert data[LTI_CLAIM + "roles"] == [MEMBERSHIP + "Instructor"]
    assert launch.get_submission_review_user()["user_id"] == opaque_user_id(world.learner)


def test_the_learner_reviews_their_own_submission(world):
    _init, _fields, launch = review(world, client_of(world.learner))
    data = launch.get_launch_data()
    assert data["sub"] == opaque_user_id(world.learner)
    assert data[LTI_CLAIM + "roles"] == [MEMBERSHIP + "Learner"]
    assert launch.get_submission_review_user()["user_id"] == data["sub"]


# --- Refusals: a page saying why, nothing started ------------------------------------------------


def refused(client, result, status=403):
    count = PendingLaunch.objects.count()
    answer = client.post(review_url(result))
    assert answer.status_code == status, answer.content.decode()
    assert PendingLaunch.objects.count() == count
    html = answer.content.decode()
    assert "This submission cannot be reviewed" in html
    return html


def test_a_status_the_tool_did_not_declare_reviewable_is_refused(world):
    world.result.activity_progress = "InProgress"
    world.result.save()
    html = refused(world.client, world.result)
    assert "not_reviewable" in html and "(Pending)" in html
    assert not may_review(world.editor, world.result)


def test_a_line_item_without_a_declaration_is_refused(world):
    world.line_item.submission_review = None
    world.line_item.save()
    assert "not_declared" in refused(world.client, world.result)


def test_an_editor_of_another_organization_is_refused(world, orgs, make_editor):
    other = make_editor("pat", orgs["partner"])
    html = refused(client_of(other), world.result)
    assert "not_allowed" in html and "only the course" in html


def test_a_learner_may_not_review_someone_elses_submission(world):
    kim = make_learner("kim")
    enroll(kim, world.course)
    assert "not_allowed" in refused(client_of(kim), world.result)


def test_the_learner_is_refused_when_the_status_is_not_reviewable(world):
    world.result.activity_progress = "Started"
    world.result.save()
    assert "not_reviewable" in refused(client_of(world.learner), world.result)


def test_a_learner_who_left_the_course_is_refused(world):
    world.learner.lti_enrollments.update(is_active=False)
    assert "not_allowed" in refused(client_of(world.learner), world.result)


def test_an_lti11_provider_offers_no_review(world):
    world.provider.lti_version = "1.1"
    world.provider.save()
    assert "not_offered" in refused(world.client, world.result)


def test_nobody_signed_in_and_unknown_results_are_refused(world):
    assert "login_required" in refused(Client(), world.result)
    world.result.pk = 999999
    refused(world.client, world.result, status=404)
    assert world.client.get(review_url(world.result)).status_code == 405
    for odd in ("abc", "9" * 40, "١٢", "-1"):
        assert world.client.post(f"/lti/review/{odd}/").status_code == 404


def test_a_review_posted_from_another_site_is_refused_by_the_csrf_check(world):
    """The review door keeps Django's CSRF protection: only this site's pages start a review."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.editor)
    assert client.post(review_url(world.result)).status_code == 403
    assert not PendingLaunch.objects.exists()


def test_a_disabled_tool_or_a_removed_activity_offers_no_review(world):
    world.provider.is_enabled = False
    world.provider.save()
    assert "provider_disabled" in refused(world.client, world.result)
    world.provider.is_enabled = True
    world.provider.save()
    world.placement.is_active = False
    world.placement.save()
    assert "activity_removed" in refused(world.client, world.result)


def test_the_include_offers_an_instructor_the_review(world):
    teacher = make_learner("tom")
    enroll(teacher, world.course, role="instructor")
    html = render_actions(world.result, teacher, learner="Lena")
    assert review_url(world.result) in html and "Review submission" in html


def test_the_authorization_step_asks_the_rule_again(world):
    """Started while allowed, refused at the authorization step once the editor no longer manages
    the organization: the tool gets ``access_denied`` at its redirect URI, no id_token."""
    conf = world.tool_conf()
    init = the_form(world.client.post(review_url(world.result)))["fields"]
    login = pylti_login(init, conf, REDIRECT_URI)
    from wagtail_lti.models import OrganizationMembership

    OrganizationMembership.objects.filter(user=world.editor).delete()
    answer = world.client.get(login["Location"])
    form = the_form(answer)
    assert form["action"] == REDIRECT_URI
    assert form["fields"]["error"] == "access_denied"
    assert "id_token" not in form["fields"]


# --- The rule ----------------------------------------------------------------------------------------


def test_check_review_says_as_whom(world, orgs, make_editor):
    teacher = make_learner("tom")
    enroll(teacher, world.course, role="instructor")
    assert check_review(world.editor, world.result).as_ == EDITOR
    assert check_review(teacher, world.result).as_ == INSTRUCTOR
    assert check_review(world.learner, world.result).as_ == LEARNER
    for viewer in (AnonymousUser(), None, make_editor("pat", orgs["partner"])):
        assert not may_review(viewer, world.result)
    with pytest.raises(ReviewRefused) as refusal:
        check_review(world.editor, None)
    assert refusal.value.status == 404


# --- The doors that offer it ---------------------------------------------------------------------


def render_actions(result, user, learner="Lena Lind") -> str:
    request = RequestFactory().get("/")
    request.user = user
    return render_to_string(
        "wagtail_lti/courses/includes/result_actions.html",
        {"result": result, "learner": learner, "request": request},
    )


def test_the_include_offers_the_review_only_when_the_rule_allows(world, orgs, make_editor):
    html = render_actions(world.result, world.editor)
    form = read_page(html).forms[0]
    assert form["action"] == review_url(world.result) and form["method"] == "post"
    assert "Review submission" in html and "Lena Lind" in html
    assert "csrfmiddlewaretoken" in form["fields"]
    assert render_actions(world.result, make_editor("pat", orgs["partner"])).strip() == ""
    world.line_item.submission_review = {"label": "Open the marking view"}
    world.line_item.save()
    assert "Open the marking view" in render_actions(world.result, world.editor)
    world.result.activity_progress = "Started"
    world.result.grading_progress = "NotReady"
    world.line_item.submission_review = DECLARATION
    world.line_item.save()
    world.result.save()
    assert render_actions(world.result, world.editor).strip() == ""


def test_the_results_report_has_a_review_button_per_reviewable_result(world):
    page = world.client.get(reverse("wagtail_lti_results_report"))
    assert page.status_code == 200
    forms = [f for f in read_page(page).forms if f["action"] == review_url(world.result)]
    assert len(forms) == 1
    # Then through that form, to the tool.
    answer = world.client.post(forms[0]["action"], forms[0]["fields"])
    assert answer.status_code == 200 and the_form(answer)["action"] == LOGIN_URL


def test_the_results_report_offers_nothing_for_a_result_not_reviewable(world):
    world.result.activity_progress = "Started"
    world.result.save()
    page = world.client.get(reverse("wagtail_lti_results_report"))
    assert review_url(world.result) not in page.content.decode()


def test_the_learner_sees_review_my_submission_on_the_course_page(world):
    learner = client_of(world.learner)
    html = learner.get(world.course.url).content.decode()
    assert "Review my submission" in html and review_url(world.result) in html
    world.result.activity_progress = "InProgress"
    world.result.save()
    html = learner.get(world.course.url).content.decode()
    assert "Review my submission" not in html


authorization_params = partial(oidc_authorization_params, redirect_uri=REDIRECT_URI)
