"""An instructor reviews a learner's submission from the class view, in Chromium (Submission
Review 1.0 from the instructor's class view).

The tool is PyLTI1p3 on the live server (``tests/tooling/lti13_tool.py``): the activity's line
item is declared reviewable, the learner's result is ``Submitted``/``PendingManual``, and the tool
shows the ``for_user`` of the ``LtiSubmissionReviewRequest`` it validates. The cell page is
axe-checked with its review button.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_submission_review import submitted_essay
from tests.support.factories import enroll, make_learner


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_instructor_reviews_a_submission_from_the_class_view(
    page, live_server, orgs, lti13_tool, learner_login, shot
):
    from django.urls import reverse

    from tests.browser.test_accessibility import assert_no_axe_violations
    from wagtail_lti.security.identifiers import opaque_user_id

    provider, course, learner = submitted_essay(lti13_tool, orgs)
    teacher = make_learner("tess", first_name="Tess", last_name="Teacher")
    enroll(teacher, course, role="instructor")
    state = lti13_tool.register(provider)

    learner_login(page, live_server, "tess", next=course.url)
    page.goto(live_server.url + reverse("wagtail_lti:class_view", args=[course.pk]))
    expect(page.get_by_text("Pending grading")).to_be_visible()
    page.locator(".lti-class__cell-link").first.click()  # Lena Lind's essay
    review = page.get_by_role("button", name="Review essay")
    expect(review).to_be_visible()
    assert_no_axe_violations(page)
    shot(page, "class-view-review-cell")
    with page.context.expect_page() as opened:
        review.click()
    tool_page = opened.value
    expect(tool_page.locator("[data-for-user]")).to_have_text(
        opaque_user_id(learner), timeout=20_000
    )
    expect(tool_page.locator("#tool-review")).to_contain_text("Lena Lind")
    shot(tool_page, "class-view-review-tool")
    assert state.errors == []
    launch = state.launches[-1]
    assert launch["https://purl.imsglobal.org/spec/lti/claim/message_type"] == (
        "LtiSubmissionReviewRequest"
    )
    assert launch["sub"] == opaque_user_id(teacher)
