"""A learner launches an LTI 1.3 activity in Chromium; the tool posts a score through AGS.

The tool is PyLTI1p3 on the live server (``tests/tooling/lti13_tool.py``): it handles our login
initiation, validates the id_token against our JWKS, gets an access token with a signed client
assertion and posts a ``FullyGraded`` score. The course page then shows the score.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from tests.support.factories import enroll, make_course, make_learner, make_link


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_learner_launches_an_lti13_activity_and_sees_the_score(
    page, live_server, orgs, lti13_tool, learner_login, shot
):
    from wagtail_lti.models import LearnerActivity

    provider = lti13_tool.make_provider(orgs["acme"], allow_ags=True)
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
    state = lti13_tool.register(provider, score_given=8, score_maximum=10)

    learner_login(page, live_server, "lena", next=course.url)
    page.goto(live_server.url + course.url)
    activity = page.locator("[data-lti-activity]")
    expect(activity.locator(".lti-activity__title")).to_have_text("Fire drill quiz")
    activity.locator("form.lti-activity__launch button").click()

    frame = page.frame_locator(".lti-activity__frame iframe")
    expect(frame.locator("#tool-launched")).to_contain_text("Fire drill quiz", timeout=20_000)
    shot(page, "learner-lti13-launched")
    assert state.errors == []
    expect(frame.locator("#tool-score")).to_have_text("Score sent: 8 / 10")
    launch = state.launches[-1]
    assert launch["name"] == "Lena Learner"
    assert launch["https://purl.imsglobal.org/spec/lti/claim/roles"] == [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
    ]

    record = LearnerActivity.objects.get(user=learner)
    assert record.status == LearnerActivity.Status.COMPLETED
    assert record.score == pytest.approx(0.8)

    page.goto(live_server.url + course.url)
    expect(page.locator(".lti-activity__score")).to_contain_text("80")
    expect(page.locator(".lti-badge")).to_have_text("Completed")
    shot(page, "learner-lti13-score")


def test_launch_survives_a_session_cookie_the_iframe_does_not_send(
    page, live_server, orgs, lti13_tool, learner_login, shot, settings
):
    """Pitfall 1: the platform (127.0.0.1) and the tool (localhost) are different sites.

    The tool sends the authentication request from its own page (a script sets
    ``window.location``), so the iframe's navigation to our authorization endpoint is initiated
    cross-site and Chromium does not send our ``SameSite=Lax`` session cookie (Django's default).
    The endpoint answers with a same-site re-post of the request from our own page, which carries
    the cookie, and the launch completes instead of failing with ``login_required``.
    """
    from wagtail_lti.models import LearnerActivity

    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    platform = live_server.url.replace("localhost", "127.0.0.1")
    assert platform != live_server.url
    provider = lti13_tool.make_provider(orgs["acme"], name="Cross-site tool")
    link = make_link(
        provider, name="Cross-site quiz", url=lti13_tool.launch_url, requires_score=True
    )
    course = make_course(orgs["acme"], [link], title="Cookies", code="CK-1")
    learner = make_learner("cora", first_name="Cora", last_name="Cookie")
    enroll(learner, course)
    state = lti13_tool.register(
        provider, issuer=platform, server_side_cookies=True, js_redirect=True
    )

    authorize_requests = []
    page.on(
        "request",
        lambda request: (
            authorize_requests.append((request.method, request.url, request.post_data))
            if "/lti/1.3/authorize/" in request.url
            else None
        ),
    )
    learner_login(page, SimpleNamespace(url=platform), "cora", next=course.url)
    page.goto(platform + course.url)
    page.locator("[data-lti-activity] form.lti-activity__launch button").click()
    frame = page.frame_locator(".lti-activity__frame iframe")
    expect(frame.locator("#tool-launched")).to_contain_text("Cross-site quiz", timeout=20_000)
    shot(page, "learner-lti13-cross-site")
    assert state.errors == []
    expect(frame.locator("#tool-score")).to_have_text("Score sent: 8 / 10")

    # The first request came without the cookie and was re-posted same-site with it.
    assert [method for method, _, _ in authorize_requests] == ["GET", "POST"]
    assert "wagtail_lti_repost=1" in (authorize_requests[1][2] or "")
    assert LearnerActivity.objects.get(user=learner).status == LearnerActivity.Status.COMPLETED
