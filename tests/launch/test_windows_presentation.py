"""When an activity may be launched (its ``available`` window) and where it opens, as the course
page shows it and as the tool is told.

* The window rule is ``launch.rules.launch_window``: asked by the launch (``check_can_launch``)
  and by the course page (``courses.view``). Learners launch only inside it; instructors at any
  time.
* ``launch_presentation`` (LTI Core 1.3 §5.4.5 ``document_target``, ``width``, ``height``; LTI 1.1
  ``launch_presentation_document_target``, ``_width``, ``_height``): ``iframe`` for an embedded
  activity, ``window`` for one opened in a new window, with the sizes the link sets.
* The windows reach the tool as ``$ResourceLink.available.*`` and ``$ResourceLink.submission.*``
  substitution variables (LTI Core 1.3 Appendix: custom property substitution).

The LTI 1.1 tool is the ``lti`` package's ``ToolProvider`` with oauthlib (``verified_params``);
the LTI 1.3 tool is PyLTI1p3 (``full_launch``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.launch.test_lti11_launch import launch, launched_form, verified_params
from tests.launch.test_lti13_launch import (  # noqa: F401 - fixtures
    full_launch,
    tool_keys,
    world,
)
from tests.support.factories import (
    enroll,
    make_course,
    make_learner,
    make_link,
    make_provider,
    placements_of,
)
from tests.support.forms import page_text, read_page
from wagtail_lti.launch.rules import LaunchWindow, launch_window, moment_label
from wagtail_lti.lti.lti13 import LTI_CLAIM
from wagtail_lti.models import Enrollment, LearnerActivity, LtiResourceLink


pytestmark = pytest.mark.django_db

WINDOW_VARIABLES = (
    "custom_av_start=$ResourceLink.available.startDateTime\n"
    "custom_av_end=$ResourceLink.available.endDateTime\n"
    "custom_sub_start=$ResourceLink.submission.startDateTime\n"
    "custom_due=$ResourceLink.submission.endDateTime"
)


def _course_with(orgs, learner, role="learner", **link_fields):
    provider = make_provider(orgs["acme"])
    link = make_link(provider, name="Timed quiz", requires_score=True, **link_fields)
    page = make_course(orgs["engineering"], [link], title="Timed course")
    enroll(learner, page, role=role)
    (placement,) = placements_of(page)
    return link, page, placement


# --- The rule ------------------------------------------------------------------------------------


def test_launch_window_rule():
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    link = LtiResourceLink(
        available_start=now + timedelta(hours=2), available_end=now + timedelta(days=1)
    )
    assert launch_window(link, now=now) == LaunchWindow("not_yet", opens=link.available_start)
    assert launch_window(link, now=link.available_start).is_open  # the start is inside
    assert launch_window(link, now=link.available_end) == LaunchWindow(
        "closed", closed=link.available_end
    )  # the end is not
    assert launch_window(link, Enrollment.Role.INSTRUCTOR, now=now).is_open
    assert launch_window(LtiResourceLink(), now=now).is_open  # no dates: always open


def test_moments_are_shown_in_the_sites_time_zone(settings):
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    with timezone.override("Europe/Berlin"):
        assert moment_label(datetime(2026, 12, 3, 13, 0, tzinfo=UTC), now=now) == "3 Dec 14:00"
        assert moment_label(datetime(2027, 1, 2, 8, 30, tzinfo=UTC), now=now) == "2 Jan 2027 09:30"


# --- The doors: the launch and the course page ----------------------------------------------------


def test_a_learner_cannot_launch_before_the_window_opens_and_the_page_says_when(
    client, orgs, learner
):
    opens = timezone.now() + timedelta(days=2)
    _link, page, placement = _course_with(orgs, learner, available_start=opens)
    client.force_login(learner)

    response = launch(client, placement)
    assert response.status_code == 403
    text = page_text(response)
    assert f"This activity opens on {moment_label(opens)}." in text
    assert not LearnerActivity.objects.exists()  # nothing recorded

    course_text = page_text(client.get(page.url))
    assert f"This activity opens on {moment_label(opens)}." in course_text
    assert "Start activity" not in course_text


def test_a_learner_cannot_launch_after_the_window_closed(client, orgs, learner):
    closed = timezone.now() - timedelta(hours=1)
    _link, page, placement = _course_with(
        orgs, learner, available_start=closed - timedelta(days=7), available_end=closed
    )
    client.force_login(learner)
    response = launch(client, placement)
    assert response.status_code == 403
    assert f"This activity closed on {moment_label(closed)}." in page_text(response)
    assert not LearnerActivity.objects.exists()
    assert "closed on" in page_text(client.get(page.url))


def test_an_instructor_may_launch_outside_the_window(client, orgs):
    teacher = make_learner("tess")
    _link, page, placement = _course_with(
        orgs, teacher, role="instructor", available_start=timezone.now() + timedelta(days=2)
    )
    form = launched_form(client, teacher, placement)
    assert verified_params(form)["roles"] == "Instructor"
    assert "Open activity again" in page_text(client.get(page.url))  # launched: a button


def test_inside_the_window_the_page_shows_the_due_date_and_launches(client, orgs, learner):
    due = timezone.now() + timedelta(days=3)
    _link, page, placement = _course_with(
        orgs,
        learner,
        available_start=timezone.now() - timedelta(days=1),
        submission_end=due,
    )
    client.force_login(learner)
    course_text = page_text(client.get(page.url))
    assert f"Due {moment_label(due)}" in course_text
    assert "Start activity" in course_text
    assert verified_params(launched_form(client, learner, placement))


# --- What the tool is told: LTI 1.1 (the lti package) -------------------------------------------


def test_lti11_new_window_launch_says_window_with_its_size_and_the_windows(client, orgs, learner):
    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    _link, page, placement = _course_with(
        orgs,
        learner,
        open_in="window",
        window_target_name="quizWindow",
        window_width=900,
        window_height=700,
        available_start=start,
        submission_end=datetime(2030, 6, 15, 15, 0, tzinfo=UTC),
        custom_parameters=WINDOW_VARIABLES,
    )
    params = verified_params(launched_form(client, learner, placement))
    assert params["launch_presentation_document_target"] == "window"
    assert params["launch_presentation_width"] == "900"
    assert params["launch_presentation_height"] == "700"
    assert params["context_type"] == "CourseOffering"  # as LTI 1.3's context type
    assert params["custom_av_start"] == "2026-01-05T08:00:00Z"
    assert params["custom_due"] == "2030-06-15T15:00:00Z"
    # No date on that side: the variable is passed through (LTI Core 1.3 §5.4.6.1).
    assert params["custom_av_end"] == "$ResourceLink.available.endDateTime"
    assert params["custom_sub_start"] == "$ResourceLink.submission.startDateTime"

    # The course page opens it in the named window.
    form = [f for f in read_page(client.get(page.url)).forms if "launch" in f["action"]][0]
    assert form["target"] == "quizWindow"


def test_lti11_embedded_launch_says_iframe_with_the_frames_size(client, orgs, learner):
    _link, page, placement = _course_with(orgs, learner, iframe_width=800, iframe_height=640)
    params = verified_params(launched_form(client, learner, placement))
    assert params["launch_presentation_document_target"] == "iframe"
    assert (params["launch_presentation_width"], params["launch_presentation_height"]) == (
        "800",
        "640",
    )
    html = client.get(page.url).content.decode()
    assert 'height="640" width="800"' in html


def test_a_window_without_a_name_opens_a_new_one_each_time(client, orgs, learner):
    _link, page, placement = _course_with(orgs, learner, open_in="window")
    client.force_login(learner)
    form = [f for f in read_page(client.get(page.url)).forms if "launch" in f["action"]][0]
    assert form["target"] == "_blank"
    params = verified_params(launched_form(client, learner, placement))
    assert params["launch_presentation_document_target"] == "window"
    assert "launch_presentation_width" not in params
    assert "launch_presentation_height" not in params


# --- What the tool is told: LTI 1.3 (PyLTI1p3) ---------------------------------------------------


def test_lti13_launch_presentation_and_window_variables(world):  # noqa: F811
    link = world.link
    link.open_in = "window"
    link.window_width, link.window_height = 1024, 768
    link.submission_end = datetime(2030, 6, 15, 15, 0, tzinfo=UTC)
    link.available_start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    link.custom_parameters = WINDOW_VARIABLES
    link.save()
    _init, _form, message_launch = full_launch(world)
    data = message_launch.get_launch_data()
    presentation = data[LTI_CLAIM + "launch_presentation"]
    assert presentation["document_target"] == "window"
    assert (presentation["width"], presentation["height"]) == (1024, 768)
    custom = data[LTI_CLAIM + "custom"]
    assert custom["av_start"] == "2026-01-05T08:00:00Z"
    assert custom["due"] == "2030-06-15T15:00:00Z"
    assert custom["av_end"] == "$ResourceLink.available.endDateTime"


def test_lti13_embedded_launch_says_iframe(world):  # noqa: F811
    _init, _form, message_launch = full_launch(world)
    presentation = message_launch.get_launch_data()[LTI_CLAIM + "launch_presentation"]
    assert presentation["document_target"] == "iframe"
    assert presentation["height"] == 600 and "width" not in presentation


def test_lti13_custom_claim_left_out_without_custom_parameters(world):  # noqa: F811
    """LTI Core 1.3 §5.4.6: the custom claim is optional; an empty one is not sent."""
    world.provider.custom_parameters = ""
    world.provider.save()
    world.link.custom_parameters = ""
    world.link.save()
    _init, _form, message_launch = full_launch(world)
    assert LTI_CLAIM + "custom" not in message_launch.get_launch_data()


def test_lti13_launch_outside_the_window_is_refused_before_the_tool(world):  # noqa: F811
    world.link.available_end = timezone.now() - timedelta(minutes=5)
    world.link.save()
    response = world.client.post(f"/lti/launch/{world.placement.lti_id}/")
    assert response.status_code == 403
    assert "This activity closed on" in page_text(response)
