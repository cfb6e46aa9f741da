"""An editor reviews a learner's submission from the results report, in Chromium (Submission
Review 1.0).

The tool is PyLTI1p3 on the live server (``tests/tooling/lti13_tool.py``): it declared the
activity's line item reviewable, received the learner's score, and shows the ``for_user`` of the
``LtiSubmissionReviewRequest`` it validates (its ``SubmissionReviewLaunchValidator``). The
learner then sees "Review my submission" on the course page (axe-checked).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.support.factories import enroll, make_course, make_learner, make_link


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def submitted_essay(lti13_tool, orgs):
    """An LTI 1.3 essay of PyLTI1p3 on a course, its line item declared reviewable while
    ``Submitted``, and Lena's submission waiting for manual grading. Returns (provider, course,
    learner)."""
    from wagtail_lti.models import Placement
    from wagtail_lti.services import results

    provider = lti13_tool.make_provider(orgs["acme"], allow_ags=True, send_name=True)
    link = make_link(
        provider, name="Essay", url=lti13_tool.launch_url, requires_score=True, score_maximum=10
    )
    course = make_course(orgs["acme"], [link], title="Writing well", code="WRI-101")
    learner = make_learner("lena", first_name="Lena", last_name="Lind")
    enroll(learner, course)
    line_item = results.line_item_for(Placement.objects.get(page=course))
    line_item.submission_review = {"reviewableStatus": ["Submitted"], "label": "Review essay"}
    line_item.save()
    results.record_launch(line_item.placement, learner)
    results.record_score(
        line_item,
        learner,
        score_given=None,
        score_maximum=None,
        activity_progress="Submitted",
        grading_progress="PendingManual",
        timestamp=datetime.now(UTC),
        comment="",
        source="ags",
    )
    return provider, course, learner


def test_an_editor_reviews_a_submission_from_the_results_report(
    page, live_server, orgs, lti13_tool, make_editor, login, learner_login, shot
):
    from tests.browser.test_accessibility import assert_no_axe_violations
    from wagtail_lti.security.identifiers import opaque_user_id

    provider, course, learner = submitted_essay(lti13_tool, orgs)
    make_editor("ed", orgs["acme"])
    state = lti13_tool.register(provider)

    login(page, live_server, "ed", next="/admin/reports/lti-results/")
    page.goto(live_server.url + "/admin/reports/lti-results/")
    button = page.get_by_role("button", name="Review essay")
    expect(button).to_be_visible()
    shot(page, "submission-review-results-report")
    with page.context.expect_page() as opened:
        button.click()
    tool_page = opened.value
    expect(tool_page.locator("#tool-review")).to_be_visible(timeout=20_000)
    expect(tool_page.locator("[data-for-user]")).to_have_text(opaque_user_id(learner))
    expect(tool_page.locator("#tool-review")).to_contain_text("Lena Lind")
    shot(tool_page, "submission-review-tool")
    assert state.errors == []
    data = state.launches[-1]
    assert data["https://purl.imsglobal.org/spec/lti/claim/message_type"] == (
        "LtiSubmissionReviewRequest"
    )
    tool_page.close()

    # The learner reviews their own submission from the course page.
    page.context.clear_cookies()
    learner_login(page, live_server, "lena", next=course.url)
    page.goto(live_server.url + course.url)
    review = page.get_by_role("button", name="Review essay")
    expect(review).to_be_visible()
    assert_no_axe_violations(page)
    shot(page, "submission-review-course-page")
    with page.context.expect_page() as opened:
        review.click()
    own = opened.value
    expect(own.locator("[data-for-user]")).to_have_text(opaque_user_id(learner), timeout=20_000)
    assert state.launches[-1]["sub"] == opaque_user_id(learner)
