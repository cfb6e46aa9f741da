"""An editor moves a tool from LTI 1.1 to LTI 1.3 in Chromium; a learner with an earlier LTI 1.1
score launches it with LTI 1.3 and the tool (PyLTI1p3 on the live server) receives the
``lti1p1`` claim it verifies with its LTI 1.1 secret (LTI 1.3 Core, LTI 1.1 migration claim).
"""

from __future__ import annotations

import pytest
from django.test import Client
from lti import OutcomeRequest
from playwright.sync_api import expect

from tests.support.factories import enroll, make_course, make_learner, make_link, make_provider
from tests.support.lti11 import send, sign_outcome
from tests.support.migration import LTI1P1, tool_verifies_lti1p1


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEY11 = "quiz-lti11-key"
SECRET11 = "quiz-lti11-secret"


def test_editor_moves_a_tool_to_lti13_and_the_learner_keeps_their_history(
    page, live_server, orgs, superuser, lti13_tool, login, learner_login, shot
):
    from wagtail_lti.models import LearnerActivity, LtiProvider, Placement
    from wagtail_lti.security.identifiers import context_id, opaque_user_id
    from wagtail_lti.security.sourcedid import make_sourcedid

    provider = make_provider(orgs["acme"], name="Quiz tool", key=KEY11, secret=SECRET11)
    link = make_link(
        provider,
        name="Fire drill quiz",
        url=lti13_tool.launch_url,
        requires_score=True,
        score_maximum=10,
    )
    course = make_course(orgs["acme"], [link], title="Safety at work", code="SAF-101")
    learner = make_learner("lena", first_name="Lena", last_name="Learner")
    enroll(learner, course)
    placement = Placement.objects.get(page=course)

    # Last term, with LTI 1.1: the tool sent a score of 60 % for Lena (Basic Outcomes).
    xml = OutcomeRequest(
        {
            "operation": "replaceResult",
            "score": 0.6,
            "message_identifier": "m-1",
            "lis_result_sourcedid": make_sourcedid(placement, learner),
        }
    ).generate_request_xml()
    answer = send(Client(), sign_outcome(xml, key=KEY11, secret=SECRET11))
    assert answer.status_code == 200 and b"success" in answer.content

    # The editor switches the provider to LTI 1.3 and fills in the tool's registration.
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/snippets/wagtail_lti/ltiprovider/edit/{provider.pk}/")
    expect(page.get_by_role("radio", name="LTI 1.1")).to_be_checked()
    page.get_by_role("radio", name="LTI 1.3").check()
    panel = page.locator("[data-lti-version='1.3']", has_text="Moving from LTI 1.1")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text(KEY11)
    expect(page.get_by_role("checkbox", name="Keep the LTI 1.1 key and secret")).to_be_checked()
    page.fill("#id_login_url", lti13_tool.login_url)
    page.fill("#id_launch_url", lti13_tool.launch_url)
    page.fill("#id_redirect_uris", lti13_tool.launch_url)
    page.fill("#id_public_key_pem", lti13_tool.public_pem)
    panel.scroll_into_view_if_needed()
    shot(page, "lti11-to-lti13-move-form")
    page.locator("button.action-save").click()
    page.wait_for_load_state("networkidle")
    provider = LtiProvider.objects.get(pk=provider.pk)
    assert provider.is_lti13 and provider.moved_from_lti11, page.content()[:2000]

    # Lena's LTI 1.1 score is still on the course page; she launches the activity with LTI 1.3.
    state = lti13_tool.register(provider, score_given=9, score_maximum=10)
    page.context.clear_cookies()
    learner_login(page, live_server, "lena", next=course.url)
    page.goto(live_server.url + course.url)
    expect(page.locator(".lti-activity__score")).to_contain_text("60")
    shot(page, "lti11-to-lti13-move-history-kept")
    page.locator("[data-lti-activity] form.lti-activity__launch button").click()
    frame = page.frame_locator(".lti-activity__frame iframe")
    expect(frame.locator("#tool-launched")).to_contain_text("Fire drill quiz", timeout=20_000)
    expect(frame.locator("#tool-score")).to_have_text("Score sent: 9 / 10")
    shot(page, "lti11-to-lti13-move-launched")
    assert state.errors == []

    claims = state.launches[-1]
    claim = claims[LTI1P1]
    assert tool_verifies_lti1p1(claims, lti11_keys={KEY11: SECRET11})
    assert claim["user_id"] == opaque_user_id(learner) == claims["sub"]
    assert claim["context_id"] == context_id(course)
    assert claim["resource_link_id"] == placement.lti_id
    record = LearnerActivity.objects.get(user=learner, placement=placement)
    assert record.launch_count == 1 and record.score == pytest.approx(0.9)
