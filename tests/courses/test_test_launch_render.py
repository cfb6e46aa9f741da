"""The course page's test launches for its editors (``courses/view.py``), rendered the same by the
fast markup (``blocks.py: render_activity``) and by the template, for every visitor state."""

from __future__ import annotations

import pytest

from tests.courses.test_activity_render import (
    activity_sections,
    get,
    squeeze,
    without_csrf_tokens,
)
from tests.courses.test_activity_render import busy_course as busy_course  # a fixture
from tests.support.factories import enroll, placements_of
from wagtail_lti import blocks


@pytest.mark.django_db
@pytest.mark.parametrize("enrolled", [False, True])
def test_an_editor_s_test_launches_render_the_same_as_with_the_template(
    client, busy_course, make_editor, orgs, enrolled, monkeypatch
):
    editor = make_editor("eddie", orgs["engineering"])
    if enrolled:
        enroll(editor, busy_course, role="instructor")
    client.force_login(editor)
    fast = without_csrf_tokens(get(client, busy_course))
    monkeypatch.setattr(blocks, "packaged_activity_template_in_use", lambda: False)
    slow = without_csrf_tokens(get(client, busy_course))
    assert [squeeze(s) for s in activity_sections(fast)] == [
        squeeze(s) for s in activity_sections(slow)
    ]
    # Every activity offers both (one whose link was withdrawn is refused with its reason).
    first = placements_of(busy_course)[0]
    assert fast.count("data-lti-test-launch") == 4
    assert f"test-launch/?placement={first.lti_id}&amp;role=learner" in fast
    assert ("lti-activity--ready" in fast) is enrolled


@pytest.mark.django_db
def test_a_learner_and_an_editor_of_another_organization_see_no_test_launch(
    client, busy_course, learner, make_editor, orgs
):
    client.force_login(learner)
    assert "data-lti-test-launch" not in get(client, busy_course)
    client.force_login(make_editor("sally", orgs["sales"]))
    assert "data-lti-test-launch" not in get(client, busy_course)
