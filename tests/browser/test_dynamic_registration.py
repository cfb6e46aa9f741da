"""An editor registers a tool by URL (LTI Dynamic Registration), reviews the disabled provider it
created and enables it, in Chromium; then a learner launches the tool with what it registered.

The tool is ``tests/tooling/registration_tool.py`` on the live server, written from the spec: opened
in the admin's frame with ``openid_configuration`` and ``registration_token``, it fetches and
checks our OpenID configuration, posts its client metadata with the token, and posts
``org.imsglobal.lti.close`` when the editor clicks "Done". Its launch URLs are the PyLTI1p3 test
tool's (``tests/tooling/lti13_tool.py``), which completes the launch and posts a score through AGS
with the registered ``client_id``, signing its client assertion with the key behind the registered
``jwks_uri``.

Screenshots (test-artifacts/screenshots/): registration-start, registration-tool,
registration-tool-registered, registration-review, registration-enabled,
registration-learner-launch.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.factories import enroll, make_course, make_learner, make_link


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROVIDERS = "/admin/snippets/wagtail_lti/ltiprovider/"


@pytest.fixture
def registration_tool(settings, live_server):
    """The registration test tool and the PyLTI1p3 test tool on the live server."""
    from types import SimpleNamespace

    from tests.tooling import lti13_tool
    from tests.tooling import registration_tool as tool

    settings.ROOT_URLCONF = "tests.tooling.registration_urls"
    # The live server is plain http on localhost.
    settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, "REGISTRATION_ALLOW_LOCAL_HTTP": True}
    private_pem, public_pem = lti13_tool.make_key_pair()
    state = tool.configure(public_pem, name="Fire Quiz")
    base = live_server.url

    def launch_with(client_id: str, deployment_id: str):
        conf = lti13_tool.make_tool_conf(
            issuer=base,
            client_id=client_id,
            deployment_id=deployment_id,
            private_pem=private_pem,
            public_pem=public_pem,
            platform_base=base,
        )
        return lti13_tool.configure(conf, score_given=9, score_maximum=10)

    return SimpleNamespace(
        registration_url=f"{base}/reg-tool/register/?lang=en",
        state=state,
        launch_with=launch_with,
    )


@pytest.fixture
def tall_shot(shot):
    """The admin scrolls inside its own panes: grow the window to the content for the shot."""

    def take(page, name: str):
        size = page.viewport_size
        height = page.evaluate(
            "Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))"
        )
        page.set_viewport_size(
            {"width": size["width"], "height": min(max(height, size["height"]), 4000)}
        )
        try:
            return shot(page, name)
        finally:
            page.set_viewport_size(size)

    return take


def test_editor_registers_a_tool_reviews_and_enables_it(
    page,
    browser,
    live_server,
    orgs,
    make_editor,
    registration_tool,
    login,
    learner_login,
    shot,
    tall_shot,
):
    from wagtail_lti.models import LearnerActivity, LtiProvider, ToolRegistration

    make_editor("reggie", orgs["acme"])
    login(page, live_server, "reggie", next=PROVIDERS)

    # The LTI providers listing: "Register a tool by URL".
    page.get_by_role("link", name="Register a tool by URL").click()
    expect(page.get_by_role("heading", name="Register a tool by URL")).to_be_visible()
    page.get_by_label("Registration URL").fill(registration_tool.registration_url)
    expect(page.locator("select[name=organization]")).to_have_value(str(orgs["acme"].pk))
    shot(page, "registration-start")
    page.get_by_role("button", name="Open the tool").click()

    # The tool opens in the frame: it has read our OpenID configuration.
    frame = page.frame_locator("[data-tool-frame]")
    expect(frame.locator("#tool-platform")).to_contain_text("wagtail-lti", timeout=20_000)
    expect(frame.locator("#tool-platform")).to_contain_text(live_server.url)
    assert registration_tool.state.errors == []
    record = ToolRegistration.objects.get()
    assert record.used_at is None and record.provider is None
    shot(page, "registration-tool")

    # The tool registers itself: a disabled provider of the editor's organization.
    frame.locator("#tool-register").click()
    expect(frame.locator("#tool-registered")).to_contain_text("Client ID", timeout=20_000)
    assert registration_tool.state.errors == []
    provider = LtiProvider.objects.get()
    registered = registration_tool.state.registrations[-1]
    assert registered["client_id"] == provider.client_id
    assert not provider.is_enabled and provider.organization == orgs["acme"]
    assert provider.name == "Fire Quiz" and provider.is_lti13
    assert provider.login_url == f"{live_server.url}/test-tool/login/"
    assert provider.jwks_url == f"{live_server.url}/reg-tool/jwks/"
    assert provider.allow_ags and provider.allow_nrps
    # Personal data as the tool asked for it, until the editor decides otherwise.
    assert provider.send_name and provider.send_email
    shot(page, "registration-tool-registered")

    # "Done" in the tool: its close message takes the editor to the review (the edit form).
    frame.locator("#tool-done").click()
    expect(page).to_have_url(re.compile(rf"{PROVIDERS}edit/{provider.pk}/$"))
    review = page.locator("[data-registration-review]")
    expect(review).to_contain_text("Review and enable")
    expect(review).to_contain_text("Short quizzes about fire safety")
    expect(review).to_contain_text("Send scores")
    expect(review).to_contain_text("Read course rosters")
    expect(review).to_contain_text("iss, sub, name, email")
    expect(page.locator(".messages")).to_contain_text("registered itself")
    expect(page.locator("#id_name")).to_have_value("Fire Quiz")
    expect(page.locator("#id_is_enabled")).not_to_be_checked()
    tall_shot(page, "registration-review")

    # The editor keeps the name, refuses the email address, enables the provider and saves.
    expect(page.locator("#id_send_email")).to_be_checked()
    page.locator("#id_send_email").uncheck()
    page.locator("#id_is_enabled").check()
    page.locator("button.action-save").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".messages")).to_contain_text("Fire Quiz")
    provider.refresh_from_db()
    assert provider.is_enabled and provider.send_name and not provider.send_email
    assert provider.client_id == registered["client_id"]
    page.goto(live_server.url + PROVIDERS)
    row = page.locator("tr", has_text="Fire Quiz")
    expect(row).to_contain_text("Enabled")
    expect(row).not_to_contain_text("Review and enable")
    shot(page, "registration-enabled")

    # A learner launches the registered tool: PyLTI1p3 with the registered client_id and
    # deployment_id, and its AGS score is accepted with a client assertion checked against the
    # registered jwks_uri.
    deployment_id = registered["https://purl.imsglobal.org/spec/lti-tool-configuration"][
        "deployment_id"
    ]
    assert deployment_id == provider.deployment_id
    tool = registration_tool.launch_with(registered["client_id"], deployment_id)
    link = make_link(
        provider,
        name="Fire extinguisher quiz",
        url=f"{live_server.url}/test-tool/launch/",
        requires_score=True,
        score_maximum=10,
    )
    course = make_course(orgs["acme"], [link], title="Fire safety", code="FIRE-1")
    learner = make_learner("lena", first_name="Lena", last_name="Learner")
    enroll(learner, course)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    learner_page = context.new_page()
    try:
        learner_login(learner_page, live_server, "lena", next=course.url)
        learner_page.goto(live_server.url + course.url)
        learner_page.locator("[data-lti-activity] form.lti-activity__launch button").click()
        tool_frame = learner_page.frame_locator(".lti-activity__frame iframe")
        expect(tool_frame.locator("#tool-launched")).to_contain_text(
            "Fire extinguisher quiz", timeout=20_000
        )
        expect(tool_frame.locator("#tool-score")).to_have_text("Score sent: 9 / 10")
        shot(learner_page, "registration-learner-launch")
        assert tool.errors == []
        launched = tool.launches[-1]
        assert launched["aud"] == registered["client_id"]
        assert launched["name"] == "Lena Learner"  # kept by the editor
        assert "email" not in launched  # refused by the editor
        activity = LearnerActivity.objects.get(user=learner)
        assert activity.status == LearnerActivity.Status.COMPLETED
        assert activity.score == pytest.approx(0.9)
        learner_page.goto("about:blank")
    finally:
        context.close()
    # Leave no request in flight while the test database is flushed.
    page.goto("about:blank")
