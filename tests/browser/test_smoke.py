import pytest


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_dashboard_loads_in_chromium(page, live_server, superuser, login, shot):
    login(page, live_server, "admin")
    assert page.url.endswith("/admin/")
    assert page.locator("h1").first.is_visible()
    shot(page, "admin-dashboard")
