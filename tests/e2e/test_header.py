"""The header on a 390 px phone (issue 15 item 5): a long name stays on one line, ellipsised rather than broken
one character per line, and the notifications link with its unread count stays in reach."""

from __future__ import annotations

from tests import factories
from tests.support.browser import PHONE, TABLET, log_in
from workflow.accounts import User
from workflow.db import db


def test_a_long_name_keeps_to_one_line_on_a_phone_and_a_tablet(browser, live_server, cast, tmp_path):
    with db.transaction() as session:
        session.get(User, cast.district_reviewer.id).display_name = "闵行区经济委员会节能审查科科长王某某"
    app_id = factories.new_application(cast)
    factories.fire(app_id, "submit", cast.applicant)
    for name, viewport in (("phone", PHONE), ("tablet", TABLET)):
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        page = context.new_page()
        log_in(page, live_server, cast.district_reviewer.username, lands_on="/desk")
        who = page.locator(".who")
        box = who.bounding_box()
        assert box is not None
        line = float(who.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 24"))
        assert box["height"] <= line * 1.5, f"{name}: the name takes {box['height']} px, more than one line"
        count = page.locator("#inbox-unread")
        assert count.is_visible() and count.inner_text() == "1"
        page.screenshot(path=str(tmp_path / f"header-{name}.png"), full_page=False)
        context.close()
