"""The auditor's pages and the second factor's enrolment on a 390 px phone (issue 16 item 4): nothing wider than the
screen, the filters, events and verification usable."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import factories
from tests.support.browser import PHONE, log_in


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url}: {overflow} px wider than the phone"


def test_the_auditor_reads_and_verifies_on_a_phone(browser, live_server, cast, tmp_path):
    app_id = factories.new_application(cast)
    factories.fire(app_id, "submit", cast.applicant)
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    log_in(page, live_server, cast.auditor.username, lands_on="/audit")
    expect(page.locator(".audit-event").first).to_be_visible()
    page.locator(".audit-event details summary").first.click()
    _no_sideways_scroll(page)
    page.locator("#filter-application").fill(str(app_id))
    page.locator("#audit-filters button[type=submit]").click()
    cards = page.locator(".audit-event")
    expect(cards.first).to_be_visible()
    expect(page.locator(f'.audit-event a[href="/applications/{app_id}"]')).to_have_count(cards.count())
    _no_sideways_scroll(page)
    page.screenshot(path=str(tmp_path / "audit-phone.png"), full_page=True)

    page.goto(f"{live_server}/audit/verify")
    page.locator("#verify-now").click()
    expect(page.locator("#verify-result")).to_have_attribute("data-ok", "1")
    _no_sideways_scroll(page)

    page.goto(f"{live_server}/account/two-factor")
    page.locator("#two-factor-start").click()
    expect(page.locator("#totp-secret")).to_be_visible()
    _no_sideways_scroll(page)
    page.screenshot(path=str(tmp_path / "two-factor-phone.png"), full_page=True)
    context.close()
