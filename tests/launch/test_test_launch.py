"""An editor's test launch (``launch/test_launch.py``): the rule, and its doors.

The tool is real: the ``lti`` package's ``ToolProvider`` and oauthlib's validator check the
LTI 1.1 form, the tool's score travels back as the ``lti`` package's ``OutcomeRequest`` signed by
requests-oauthlib; the LTI 1.3 tool is PyLTI1p3 (login, id_token, AGS score).
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from lti import OutcomeRequest, ToolProvider
from pylti1p3.grade import Grade

from tests.support.factories import (
    KEY,
    SECRET,
    enroll,
    make_course,
    make_link,
    placements_of,
)
from tests.support.forms import the_form
from tests.support.lti11 import send, sign_outcome
from tests.support.lti13 import ISSUER, make_tool, pylti_launch, pylti_login
from tests.support.oauth1 import ToolValidator
from tests.tooling.lti13_tool import make_tool_conf
from wagtail_lti.launch import test_launch as service
from wagtail_lti.launch.rules import LaunchRefused
from wagtail_lti.models import (
    Enrollment,
    LaunchLogEntry,
    LearnerActivity,
    PendingLaunch,
    Result,
    TestLearner,
)
from wagtail_lti.security.identifiers import opaque_user_id


pytestmark = pytest.mark.django_db

SAME_SITE = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "iframe"}


@pytest.fixture
def editor(make_editor, orgs):
    """Manages Engineering, the organization of the ``course`` fixture."""
    return make_editor("eddie", orgs["engineering"])


@pytest.fixture
def editor_client(editor):
    client = Client()
    client.force_login(editor)
    return client


def test_launch_url(**params) -> str:
    return f"{reverse('wagtail_lti:test_launch')}?{urlencode(params)}"


test_launch_url.__test__ = False


def tool_accepts(form, secret=SECRET) -> ToolProvider:
    tool = ToolProvider.from_unpacked_request(secret, form["fields"], form["action"], {})
    assert tool.is_valid_request(ToolValidator(key=KEY, secret=secret)), "the tool refused it"
    return tool


# --- The rule ----------------------------------------------------------------------------------


def test_course_editors_may_test_launch_its_activities_others_may_not(
    course, editor, make_editor, orgs, learner
):
    (placement,) = placements_of(course)
    test = service.find_target({"placement": placement.lti_id})
    service.check_may_test_launch(editor, test)  # manages the course's organization
    service.check_may_test_launch(make_editor("anna", orgs["acme"]), test)  # its parent

    with pytest.raises(LaunchRefused) as refused:
        service.check_may_test_launch(make_editor("sally", orgs["sales"]), test)
    assert refused.value.code == "not_course_editor" and refused.value.status == 403
    enroll(learner, course)  # an enrolled learner is no editor
    with pytest.raises(LaunchRefused) as refused:
        service.check_may_test_launch(learner, test)
    assert refused.value.code == "not_course_editor"


def test_catalogue_test_launch_needs_an_organization_that_may_use_the_link(link, make_editor, orgs):
    test = service.find_target({"link": str(link.pk)})
    service.check_may_test_launch(make_editor("sally", orgs["sales"]), test)  # under Acme
    with pytest.raises(LaunchRefused) as refused:
        service.check_may_test_launch(make_editor("pat", orgs["partner"]), test)
    assert refused.value.status == 404  # not even told it exists


def test_a_disabled_or_incomplete_provider_is_refused_with_its_reason(link, editor):
    provider = link.provider
    provider.is_enabled = False
    provider.save()
    with pytest.raises(LaunchRefused) as refused:
        service.check_may_test_launch(editor, service.find_target({"provider": provider.pk}))
    assert refused.value.code == "provider_disabled"


def test_bad_parameters_are_refused_clearly():
    for params in ({}, {"placement": "nope"}, {"link": "x1"}, {"provider": "999999"}):
        with pytest.raises(LaunchRefused) as refused:
            service.find_target(params)
        assert refused.value.status == 404
    with pytest.raises(LaunchRefused) as refused:
        service.role_of({"role": "admin"})
    assert refused.value.status == 400 and refused.value.code == "bad_role"


def test_one_test_learner_per_editor_and_course_who_cannot_log_in(course, editor):
    first = service.test_learner(editor, course.pk)
    assert service.test_learner(editor, course.pk) == first
    assert not first.has_usable_password() and not first.email
    assert first.first_name == "Test learner" and "Eddie" in first.last_name
    enrollment = Enrollment.objects.get(course=course, user=first)
    assert (enrollment.role, enrollment.via) == ("learner", "test")
    catalogue = service.test_learner(editor, None)
    assert catalogue != first
    assert not Enrollment.objects.filter(user=catalogue).exists()
    assert TestLearner.objects.filter(editor=editor).count() == 2


# --- LTI 1.1, a course's activity ------------------------------------------------------------


def test_lti11_test_learner_launch_reaches_the_tool_and_its_score_is_kept_apart(
    course, editor, editor_client, learner, superuser, client
):
    """The tool verifies the launch, sees a Learner who is not the editor, sends a score: it is
    recorded for the test learner, never in the results report."""
    (placement,) = placements_of(course)
    enroll(learner, course)
    response = editor_client.get(
        test_launch_url(placement=placement.lti_id, role="learner"), headers=SAME_SITE
    )
    assert response.status_code == 200, response.content.decode()
    form = the_form(response)
    tool = tool_accepts(form)
    test_learner = TestLearner.objects.get(editor=editor, course=course).user
    assert tool.roles == ["Learner"]
    assert tool.user_id == opaque_user_id(test_learner) != opaque_user_id(editor)
    assert tool.lis_person_name_full.startswith("Test learner")
    assert tool.resource_link_id == placement.lti_id
    assert tool.launch_presentation_return_url.startswith(
        "http://testserver" + reverse("wagtail_lti:test_launch_return")
    )

    xml = OutcomeRequest(
        {
            "operation": "replaceResult",
            "score": "0.75",
            "message_identifier": "msg-1",
            "lis_result_sourcedid": tool.lis_result_sourcedid,
        }
    ).generate_request_xml()
    answer = send(client, sign_outcome(xml, key=KEY, secret=SECRET))
    assert b"success" in answer.content, answer.content

    assert Result.objects.get(user=test_learner).score_given == 0.75
    activity = LearnerActivity.objects.get(user=test_learner, placement=placement)
    assert activity.status == "completed" and activity.score == 0.75
    assert not LearnerActivity.objects.filter(user__in=[editor, learner]).exists()

    from wagtail_lti.admin.courses import results_queryset

    rows = list(results_queryset(superuser))
    assert [row.user for row in rows] == [learner]
    superuser_client = Client()
    superuser_client.force_login(superuser)
    report = superuser_client.get(reverse("wagtail_lti_results_report")).content.decode()
    assert learner.username in report and test_learner.username not in report

    launch = LaunchLogEntry.objects.filter(kind="launch").get()
    assert launch.is_test and launch.user == editor and launch.placement == placement
    assert launch.action == "LTI 1.1 launch form signed"


def test_lti11_instructor_test_launch_sends_no_result_id_and_records_no_progress(
    course, editor, editor_client
):
    (placement,) = placements_of(course)
    response = editor_client.get(
        test_launch_url(placement=placement.lti_id, role="instructor"), headers=SAME_SITE
    )
    tool = tool_accepts(the_form(response))
    assert tool.roles == ["Instructor"] and tool.user_id == opaque_user_id(editor)
    assert not tool.lis_result_sourcedid and not tool.lis_outcome_service_url
    assert not LearnerActivity.objects.exists() and not TestLearner.objects.exists()


def test_a_test_launch_from_another_site_or_by_a_stranger_records_nothing(
    course, editor_client, make_editor, orgs
):
    (placement,) = placements_of(course)
    url = test_launch_url(placement=placement.lti_id, role="learner")
    cross_site = editor_client.get(url, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403 and b"did not come from" in cross_site.content
    stranger = Client()
    stranger.force_login(make_editor("sally", orgs["sales"]))
    refused = stranger.get(url, headers=SAME_SITE)
    assert refused.status_code == 403 and b"Only the editors of" in refused.content
    assert Client().get(url, headers=SAME_SITE).status_code == 403  # anonymous: log in
    assert editor_client.get(test_launch_url(link="x"), headers=SAME_SITE).status_code == 404
    bad_role = test_launch_url(placement=placement.lti_id, role="root")
    assert editor_client.get(bad_role, headers=SAME_SITE).status_code == 400
    assert not TestLearner.objects.exists() and not LearnerActivity.objects.exists()
    assert set(LaunchLogEntry.objects.values_list("is_test", "outcome")) == {(True, "error")}


# --- LTI 1.1 from the catalogue ------------------------------------------------------------------


def test_catalogue_test_launch_of_a_link_uses_a_test_context_and_takes_no_score(
    link, make_editor, orgs
):
    sally = make_editor("sally", orgs["sales"])
    client = Client()
    client.force_login(sally)
    response = client.get(test_launch_url(link=link.pk, role="learner"), headers=SAME_SITE)
    form = the_form(response)
    assert form["action"] == link.url
    tool = tool_accepts(form)
    assert tool.roles == ["Learner"] and tool.context_title == "Test launches"
    assert tool.user_id == opaque_user_id(TestLearner.objects.get(editor=sally).user)
    assert not tool.lis_result_sourcedid
    other = Client()
    other.force_login(make_editor("pat", orgs["partner"]))
    assert other.get(test_launch_url(link=link.pk), headers=SAME_SITE).status_code == 404


# --- LTI 1.3, with PyLTI1p3 --------------------------------------------------------------------


@pytest.fixture
def tool13(orgs, settings):
    settings.ALLOWED_HOSTS = ["testserver", "tool.example"]
    tool = make_tool(
        orgs["acme"],
        name="Test launch tool",
        key="",
        secret=None,
        login_url="https://tool.example/lti/login/",
        launch_url="https://tool.example/lti/launch/",
        redirect_uris="https://tool.example/lti/launch/",
        allow_ags=True,
    )
    link = make_link(
        tool.provider, url="https://tool.example/lti/launch/", requires_score=True, score_maximum=10
    )
    return tool, link


def tool_conf(tool):
    """PyLTI1p3's registration of this platform, reading our JWKS URL."""
    return make_tool_conf(
        issuer=ISSUER,
        client_id=tool.provider.client_id,
        deployment_id=tool.provider.deployment_id,
        private_pem=tool.private_pem,
        public_pem=tool.public_pem,
        platform_base=ISSUER,
    )


def pylti_test_launch(client, tool, url):
    conf = tool_conf(tool)
    response = client.get(url, headers=SAME_SITE)
    assert response.status_code == 200, response.content.decode()
    init = the_form(response)["fields"]
    login = pylti_login(init, conf, "https://tool.example/lti/launch/")
    answer = client.get(login["Location"])
    assert answer.status_code == 200, answer.content.decode()
    return pylti_launch(the_form(answer)["fields"], login, conf)


def test_lti13_test_learner_launch_with_pylti1p3_and_its_ags_score_is_kept_apart(
    tool13, orgs, editor, editor_client, superuser
):
    tool, link = tool13
    course = make_course(orgs["engineering"], [link])
    (placement,) = placements_of(course)
    message_launch = pylti_test_launch(
        editor_client, tool, test_launch_url(placement=placement.lti_id, role="learner")
    )
    data = message_launch.get_launch_data()
    test_learner = TestLearner.objects.get(editor=editor, course=course).user
    assert message_launch.check_student_access() and not message_launch.check_teacher_access()
    assert data["sub"] == opaque_user_id(test_learner) != opaque_user_id(editor)
    assert data["https://purl.imsglobal.org/spec/lti/claim/launch_presentation"][
        "return_url"
    ].startswith("http://testserver" + reverse("wagtail_lti:test_launch_return"))

    grade = (
        Grade()
        .set_timestamp(timezone.now().isoformat())
        .set_score_given(7)
        .set_score_maximum(10)
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_user_id(data["sub"])
    )
    from tests.tooling.requests_adapter import routed_session

    ags = message_launch.get_ags()
    ags._service_connector._requests_session = routed_session("http://testserver")
    ags.put_grade(grade)
    assert Result.objects.get(user=test_learner).score_given == 7
    assert LearnerActivity.objects.get(user=test_learner).status == "completed"
    assert not LearnerActivity.objects.filter(user=editor).exists()
    from wagtail_lti.admin.courses import results_queryset

    assert not list(results_queryset(superuser))
    issued = LaunchLogEntry.objects.get(kind="id_token")
    assert issued.is_test and issued.user == editor and issued.outcome == "ok"


def test_lti13_instructor_test_launch_from_the_catalogue(tool13, editor, editor_client):
    tool, link = tool13
    message_launch = pylti_test_launch(
        editor_client, tool, test_launch_url(provider=tool.provider.pk, role="instructor")
    )
    data = message_launch.get_launch_data()
    assert message_launch.check_teacher_access()
    assert data["sub"] == opaque_user_id(editor)
    assert data["https://purl.imsglobal.org/spec/lti/claim/context"]["title"] == "Test launches"
    assert "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint" not in data
    assert not LearnerActivity.objects.exists()
    assert PendingLaunch.objects.get().data["test"]["role"] == "instructor"


def test_lti13_authorization_rechecks_the_editor(tool13, orgs, editor, editor_client):
    """The editor stops managing the course between the login initiation and the id_token: the
    tool is told access_denied, nothing is recorded."""
    tool, link = tool13
    course = make_course(orgs["engineering"], [link])
    (placement,) = placements_of(course)
    response = editor_client.get(
        test_launch_url(placement=placement.lti_id, role="learner"), headers=SAME_SITE
    )
    init = the_form(response)["fields"]
    login = pylti_login(init, tool_conf(tool), "https://tool.example/lti/launch/")
    from wagtail_lti.models import OrganizationMembership

    OrganizationMembership.objects.filter(user=editor).delete()
    answer = editor_client.get(login["Location"])
    fields = the_form(answer)["fields"]
    assert fields["error"] == "access_denied"
    assert not LearnerActivity.objects.exists()


# --- The doors: admin and course page ------------------------------------------------------------


def test_admin_test_launch_page_shows_the_banner_and_frames_the_launch(
    course, editor_client, make_editor, orgs
):
    (placement,) = placements_of(course)
    url = f"{reverse('wagtail_lti_test_launch')}?placement={placement.lti_id}&role=learner"
    page = editor_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-test-launch-banner" in html and "not recorded in learners" in html
    frame = test_launch_url(placement=placement.lti_id, role="learner").replace("&", "&amp;")
    assert f'src="{frame}"' in html
    stranger = Client()
    stranger.force_login(make_editor("pat", orgs["partner"]))
    refused = stranger.get(url)
    assert refused.status_code == 200 and b"data-test-launch-refused" in refused.content
    assert stranger.get(reverse("wagtail_lti_test_launch") + "?link=999999").status_code == 404


def test_provider_and_link_edit_forms_offer_test_launches(link, superuser):
    client = Client()
    client.force_login(superuser)
    provider_form = client.get(
        reverse("wagtailsnippets_wagtail_lti_ltiprovider:edit", args=[link.provider.pk])
    ).content.decode()
    assert f"test-launch/?provider={link.provider.pk}&amp;role=learner" in provider_form
    assert reverse("wagtail_lti_provider_check", args=[link.provider.pk]) in provider_form
    link_form = client.get(
        reverse("wagtailsnippets_wagtail_lti_ltiresourcelink:edit", args=[link.pk])
    ).content.decode()
    assert f"test-launch/?link={link.pk}&amp;role=instructor" in link_form


def test_course_page_offers_its_editors_test_launches_and_learners_nothing(
    course, editor_client, learner
):
    (placement,) = placements_of(course)
    html = editor_client.get(course.url).content.decode()
    assert "You are not enrolled in this course" in html
    assert "data-lti-test-launch" in html
    assert f"test-launch/?placement={placement.lti_id}&amp;role=learner" in html
    learner_client = Client()
    learner_client.force_login(learner)
    enroll(learner, course)
    assert "data-lti-test-launch" not in learner_client.get(course.url).content.decode()


def test_course_preview_of_a_new_block_offers_a_test_launch_of_its_link(
    course, editor_client, superuser, provider
):
    """A block not published yet has no placement: the preview offers its resource link's."""
    new_link = make_link(provider, name="Draft quiz")
    page = course.specific
    client = Client()
    client.force_login(superuser)
    preview = client.post(
        reverse("wagtailadmin_pages:preview_on_edit", args=[page.pk]),
        {
            "title": page.title,
            "slug": page.slug,
            "course_organization": page.course_organization_id,
            "course_code": page.course_code,
            "body-count": "2",
            "body-0-type": "lti_activity",
            "body-0-deleted": "",
            "body-0-order": "0",
            "body-0-id": page.body[0].id,
            "body-0-value-resource_link": page.body[0].value["resource_link"].pk,
            "body-0-value-title": "",
            "body-1-type": "lti_activity",
            "body-1-deleted": "",
            "body-1-order": "1",
            "body-1-id": "",
            "body-1-value-resource_link": new_link.pk,
            "body-1-value-title": "",
        },
    )
    assert preview.status_code == 200, preview.content[:500]
    html = client.get(reverse("wagtailadmin_pages:preview_on_edit", args=[page.pk])).content
    html = html.decode()
    assert f"test-launch/?link={new_link.pk}&amp;role=learner" in html
    (placement,) = placements_of(course)
    assert f"test-launch/?placement={placement.lti_id}&amp;role=instructor" in html


def test_the_test_learner_is_no_user_anyone_logs_in_as(course, editor):
    user = service.test_learner(editor, course.pk)
    client = Client()
    assert not client.login(username=user.username, password="")
    from django.contrib.auth.forms import PasswordResetForm

    assert not list(PasswordResetForm().get_users(user.email or "x@example.com"))
    assert get_user_model().objects.get(pk=user.pk).has_usable_password() is False


def test_the_learner_s_own_launch_is_unchanged(course, learner, client):
    """The learner's launch still needs an enrollment, and records nothing as a test."""
    enroll(learner, course)
    client.force_login(learner)
    (placement,) = placements_of(course)
    response = client.post(reverse("wagtail_lti:launch", args=[placement.lti_id]))
    tool = tool_accepts(the_form(response))
    assert tool.roles == ["Learner"] and tool.user_id == opaque_user_id(learner)
    assert not LaunchLogEntry.objects.filter(is_test=True).exists()


def test_lti13_catalogue_test_launch_rechecks_the_provider(tool13, editor, editor_client):
    """The provider is disabled between the login initiation and the id_token."""
    tool, link = tool13
    response = editor_client.get(test_launch_url(link=link.pk, role="learner"), headers=SAME_SITE)
    init = the_form(response)["fields"]
    login = pylti_login(init, tool_conf(tool), "https://tool.example/lti/launch/")
    tool.provider.is_enabled = False
    tool.provider.save()
    fields = the_form(editor_client.get(login["Location"]))["fields"]
    assert fields["error"] == "access_denied" and "id_token" not in fields
