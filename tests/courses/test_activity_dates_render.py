"""The activity block's new parts (the due date, the frame's width, the new window's name, a
window not open yet) are the same in the Python markup and in the template."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from tests.courses.test_activity_render import BLOCK_ID, link_of, ready, squeeze
from wagtail_lti.blocks import ACTIVITY_TEMPLATE, render_activity
from wagtail_lti.courses.view import ActivityView, CourseView


CASES = {
    "embedded with a due date and the link's frame size": ready(
        due_label="Due 5 Dec 17:00", frame_height=640, frame_width=800
    ),
    "new window with a name": ready(open_in="window", window_target="quiz-window"),
    "new window with features": ready(
        open_in="window", window_features='width=900,height=700,menubar="no"&'
    ),
    "not open yet, with a due date": ActivityView(
        block_id=BLOCK_ID,
        title="Quiz",
        reason="This activity opens on 7 Dec 09:00.",
        due_label="Due <9 Dec> & later",
    ),
}


def test_window_features_of_a_link():
    from wagtail_lti.courses.view import window_features_of
    from wagtail_lti.models import LtiResourceLink

    link = LtiResourceLink(
        window_width=900, window_height=700, window_features="menubar=no, noopener,resizable"
    )
    assert window_features_of(link) == "width=900,height=700,menubar=no,resizable"
    assert window_features_of(LtiResourceLink()) == ""


@pytest.mark.parametrize("case", list(CASES))
def test_python_markup_is_the_templates(case):
    activity = CASES[case]
    link = link_of(True)
    expected = render_to_string(
        ACTIVITY_TEMPLATE, {"activity": activity, "value": {"resource_link": link}}
    )
    rendered = render_activity(activity, link, CourseView(None, None))
    assert squeeze(rendered) == squeeze(expected)
    if activity.due_label:
        assert '<p class="lti-activity__due">' in rendered
    assert "<9 Dec>" not in rendered  # escaped
