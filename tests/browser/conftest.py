"""Playwright + Debian's Chromium against pytest-django's live server.

Fixtures:
- ``browser``: one headless Chromium for the session.
- ``page``: a fresh browser context and page per test.
- ``shot(page, name)``: saves ``test-artifacts/screenshots/<name>.png`` (full page) and returns its path.
- ``login(page, live_server, username, password="password", next="/admin/")``: logs in through
  Wagtail's admin login form.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login():
    def do_login(
        page, live_server, username: str, password: str = "password", next: str = "/admin/"
    ):
        page.goto(f"{live_server.url}/admin/login/?next={next}")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")

    return do_login


@pytest.fixture
def learner_login():
    """``learner_login(page, live_server, username, next="/")``: logs in through the site's login page."""

    def do_login(page, live_server, username: str, password: str = "password", next: str = "/"):
        page.goto(f"{live_server.url}/accounts/login/?next={next}")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")

    return do_login


@pytest.fixture
def lti13_tool(settings, live_server):
    """The PyLTI1p3 test tool (``tests/tooling/lti13_tool.py``) served by the live server.

    Switches to the test URLconf that mounts the tool at ``/test-tool/``. Returns an object with
    the tool's URLs and keys; call ``register(provider)`` once the provider exists (``issuer``:
    the platform origin the browser uses, when it is not the live server's ``localhost`` URL).
    """
    from types import SimpleNamespace

    from tests.tooling import lti13_tool as tool

    settings.ROOT_URLCONF = "tests.tooling.urls"
    private_pem, public_pem = tool.make_key_pair()
    base = live_server.url

    def register(provider, *, issuer: str = base, **kwargs):
        conf = tool.make_tool_conf(
            issuer=issuer,
            client_id=provider.client_id,
            deployment_id=provider.deployment_id,
            private_pem=private_pem,
            public_pem=public_pem,
            platform_base=issuer,
        )
        return tool.configure(conf, **kwargs)

    login_url = f"{base}/test-tool/login/"
    launch_url = f"{base}/test-tool/launch/"

    def make_provider(organization, *, name: str = "PyLTI1p3 test tool", **fields):
        """An LTI 1.3 provider pointing at this tool (its URLs and public key)."""
        from tests.support.factories import make_provider as make

        return make(
            organization,
            name=name,
            version="1.3",
            key="",
            login_url=login_url,
            launch_url=launch_url,
            redirect_uris=launch_url,
            public_key_pem=public_pem,
            **fields,
        )

    return SimpleNamespace(
        login_url=login_url,
        launch_url=launch_url,
        private_pem=private_pem,
        public_pem=public_pem,
        register=register,
        make_provider=make_provider,
        state=tool.STATE,
    )


@pytest.fixture
def deep_linking_tool(settings, live_server):
    """The PyLTI1p3 deep linking tool (``tests/tooling/deep_linking_tool.py``) on the live server.

    Switches to the URLconf that mounts it at ``/dl-tool/``. Call ``register(provider)`` once the
    provider exists; it returns the tool's state (the requests it received, its errors).
    """
    from types import SimpleNamespace

    from tests.tooling import deep_linking_tool as tool
    from tests.tooling.lti13_tool import make_key_pair, make_tool_conf

    settings.ROOT_URLCONF = "tests.tooling.deep_linking_urls"
    private_pem, public_pem = make_key_pair()
    base = live_server.url

    def register(provider):
        conf = make_tool_conf(
            issuer=base,
            client_id=provider.client_id,
            deployment_id=provider.deployment_id,
            private_pem=private_pem,
            public_pem=public_pem,
            platform_base=base,
        )
        return tool.configure(conf)

    return SimpleNamespace(
        login_url=f"{base}/dl-tool/login/",
        launch_url=f"{base}/dl-tool/launch/",
        public_pem=public_pem,
        register=register,
        state=tool.STATE,
    )


@pytest.fixture
def storage_tool(settings, live_server):
    """The platform storage test tool (``tests/tooling/storage_tool.py``) on the live server.

    Switches to the URLconf that mounts it at ``/storage-tool/``. Call ``register(provider,
    issuer=...)`` once the provider exists; ``logins`` holds the login initiations it received.
    """
    from types import SimpleNamespace

    from tests.tooling import lti13_tool
    from tests.tooling import storage_tool as tool

    settings.ROOT_URLCONF = "tests.tooling.storage_urls"
    private_pem, public_pem = lti13_tool.make_key_pair()
    base = live_server.url
    tool.LOGINS.clear()

    def register(provider, *, issuer: str = base):
        conf = lti13_tool.make_tool_conf(
            issuer=issuer,
            client_id=provider.client_id,
            deployment_id=provider.deployment_id,
            private_pem=private_pem,
            public_pem=public_pem,
            platform_base=issuer,
        )
        return lti13_tool.configure(conf, server_side_cookies=True)

    return SimpleNamespace(
        login_url=f"{base}/storage-tool/login/",
        launch_url=f"{base}/storage-tool/launch/",
        probe_url=f"{base}/storage-tool/probe/",
        public_pem=public_pem,
        register=register,
        logins=tool.LOGINS,
    )


@pytest.fixture
def quiet_editor(settings):
    """The page editor without background writes racing the test's requests: no autosave, one
    editing-session ping (when the editor opens) instead of one every 10 s, and no release
    beacon when the editor is left. On the in-memory SQLite test database, which the live
    server's threads share, a write running alongside another request fails with "database
    table is locked" (a server database waits instead). The test saves and publishes explicitly."""
    settings.WAGTAIL_AUTOSAVE_INTERVAL = 0
    settings.WAGTAIL_EDITING_SESSION_PING_INTERVAL = 24 * 3600 * 1000

    def apply(page):
        page.route(re.compile(r"/admin/editing-sessions/release/"), lambda route: route.abort())

    return apply
