"""Browser helpers the page tests share: viewports, and logging in as a person would."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests import factories

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}


def log_in(page: Page, base: str, username: str, lands_on: str = "/applications") -> None:
    """Log in on the login page; each role lands on its own work (applicants on their applications)."""
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{base}{lands_on}")
