"""The expert on a tablet without a connection: scores, notes and a photo survive a reload offline, sync when the
connection is back, a conflict waits for the expert's choice, then the sheet is signed on the screen."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from review import scoring
from tests import factories
from tests.factories import on_site_visit_day as on_site
from tests.support.browser import PHONE, log_in
from tests.support.meters import metered

pytestmark = pytest.mark.e2e

TABLET = {"width": 768, "height": 1024}
SHANGHAI = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 15}


def server_sheet(cast: factories.Cast, app_id: int) -> dict[str, dict[str, Any]]:
    sheet = scoring.view_sheet(cast.expert, app_id)
    return {c["id"]: c for cat in sheet["categories"] for c in cat["criteria"]}


def dead_network(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on the live server answers nothing (503, as a network that is down would fail); every request that
    still reaches it is recorded as "METHOD path".

    Chromium's offline emulation can let a request of a freshly reloaded page slip out before it applies to the new
    document; on a real tablet without signal nothing would. Failing those here keeps the test about the page, not
    about the emulation's timing.
    """
    seen: list[str] = []

    def refusing(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen.append(f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO', '')}")
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"offline"]

    monkeypatch.setattr(app, "wsgi_app", refusing)
    return seen


def criterion(page: Page, cid: str) -> Locator:
    return page.locator(f'li.criterion[data-criterion="{cid}"]')


def choose(page: Page, cid: str, result: str) -> None:
    """Tap one of the three big buttons."""
    criterion(page, cid).locator(f'label[data-result="{result}"]').click()


def expect_choice(page: Page, cid: str, result: str) -> None:
    expect(criterion(page, cid).locator(f'input[value="{result}"]')).to_be_checked()


def expect_kept_on_device(page: Page, waiting: int) -> None:
    expect(page.locator("#pending-count")).to_have_text(str(waiting))
    expect(page.locator("#sync-status")).to_have_attribute("data-local", "saved")


def open_checklist(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#checklist")).to_have_attribute("data-ready", "true")


def test_the_expert_scores_offline_syncs_settles_a_conflict_and_signs(
    browser, live_server, app, cast, monkeypatch, tmp_path
):
    app_id = on_site(cast)
    ids = list(server_sheet(cast, app_id))
    # 不适用 is offered only on the effects of category 6 (the third criterion here is the first effect).
    first, second, third = ids[0], ids[1], next(c for c in ids if c.startswith("6."))
    url = f"{live_server}/applications/{app_id}/checklist"
    tablet = browser.new_context(
        viewport=TABLET, has_touch=True, geolocation=SHANGHAI, permissions=["geolocation"], locale="zh-CN"
    )
    try:
        page = tablet.new_page()
        log_in(page, live_server, cast.expert.username, lands_on="/assignments")
        open_checklist(page, url)
        expect(page.locator("#progress-total")).to_have_text(str(len(ids)))
        # The service worker has kept the page, its script and its sheet for a reload without a connection.
        expect(page.locator("#checklist")).to_have_attribute("data-offline-ready", "true")
        face = criterion(page, first).locator(".choice-face").first.bounding_box()
        assert face is not None and face["height"] >= 48 and face["width"] >= 48

        # On site, no signal: three results, a score, a note and a photo, all kept on the tablet.
        tablet.set_offline(True)
        expect(page.locator("#sync-status")).to_have_attribute("data-net", "offline")
        requests = dead_network(app, monkeypatch)
        choose(page, first, "conform")
        choose(page, second, "nonconform")
        criterion(page, second).locator(".score-input").fill("1.5")
        criterion(page, second).locator(".note-input").fill("三级表具接入率 72%，低于 80%")
        choose(page, third, "not_applicable")
        photo = tmp_path / "meter-room.png"
        photo.write_bytes(factories.SIGNATURE_PNG)
        criterion(page, third).locator(".photo-input").set_input_files(str(photo))
        expect(criterion(page, third).locator(".photo.waiting")).to_have_count(1)
        expect_kept_on_device(page, 4)
        expect(page.locator("#progress-done")).to_have_text("3")
        expect(criterion(page, second)).to_have_attribute("data-sync", "pending")

        # Reloaded while still offline: the worker serves the page, the answers come from the tablet's storage.
        page.reload()
        expect(page.locator("#checklist")).to_have_attribute("data-ready", "true")
        expect_choice(page, first, "conform")
        expect_choice(page, second, "nonconform")
        expect_choice(page, third, "not_applicable")
        expect(criterion(page, second).locator(".score-input")).to_have_value("1.5")
        expect(criterion(page, second).locator(".note-input")).to_have_value("三级表具接入率 72%，低于 80%")
        expect(criterion(page, third).locator(".photo.waiting")).to_have_count(1)
        expect(page.locator("#sync-status")).to_have_attribute("data-net", "offline")
        expect_kept_on_device(page, 4)
        # The page and its sheet came from the worker: no GET went out (a stray write would have failed above).
        assert [r for r in requests if r.startswith("GET ")] == [], f"the offline reload fetched: {requests}"
        assert server_sheet(cast, app_id)[first]["result"] is None

        # Back online: the tablet syncs by itself, and the server holds what was done offline.
        monkeypatch.undo()
        tablet.set_offline(False)
        expect_kept_on_device(page, 0)
        expect(page.locator("#last-synced")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
        held = server_sheet(cast, app_id)
        assert [held[c]["result"] for c in (first, second, third)] == ["conform", "nonconform", "not_applicable"]
        assert (held[second]["score"], held[second]["note"]) == ("1.50", "三级表具接入率 72%，低于 80%")
        [kept] = held[third]["photos"]
        assert kept["latitude"] == pytest.approx(SHANGHAI["latitude"]) and kept["taken_at"]
        expect(criterion(page, third).locator(".photo.kept")).to_have_count(1)

        # Offline again, the expert changes two answers; meanwhile both change on the server (another device).
        tablet.set_offline(True)
        expect(page.locator("#sync-status")).to_have_attribute("data-net", "offline")
        choose(page, first, "nonconform")
        choose(page, second, "conform")
        expect_kept_on_device(page, 2)
        scoring.save_answers(
            cast.expert,
            app_id,
            [
                {"criterion": first, "result": "conform", "note": "另一台设备", "base_revision": 1},
                {"criterion": second, "result": "nonconform", "note": "另一台设备", "base_revision": 1},
            ],
        )
        tablet.set_offline(False)
        for cid in (first, second):
            box = criterion(page, cid).locator(".conflict")
            expect(box).to_be_visible()
            expect(box.locator("dd.theirs")).to_contain_text("另一台设备")
        expect(criterion(page, first).locator(".conflict dd.yours")).to_contain_text("不符合")
        expect(criterion(page, second).locator(".conflict dd.theirs")).to_contain_text("不符合")
        expect(page.locator("#conflict-count")).to_have_text("2")
        # Nothing is overwritten either way until the expert chooses.
        expect_choice(page, first, "nonconform")
        expect_choice(page, second, "conform")
        held = server_sheet(cast, app_id)
        assert [(held[c]["result"], held[c]["note"]) for c in (first, second)] == [
            ("conform", "另一台设备"),
            ("nonconform", "另一台设备"),
        ]

        criterion(page, first).locator(".keep-mine").click()
        criterion(page, second).locator(".take-theirs").click()
        expect_kept_on_device(page, 0)
        expect(page.locator(".conflict:visible")).to_have_count(0)
        expect_choice(page, second, "nonconform")
        held = server_sheet(cast, app_id)
        assert (held[first]["result"], held[first]["note"], held[first]["revision"]) == ("nonconform", "", 3)
        assert (held[second]["result"], held[second]["revision"]) == ("nonconform", 2)

        # The rest, then the signature drawn on the screen, the typed name and the confirmation.
        for cid in ids:
            if cid not in (first, second, third):
                choose(page, cid, "conform")
        expect(page.locator("#progress-done")).to_have_text(str(len(ids)))
        expect_kept_on_device(page, 0)
        pad = page.locator("#signature-pad")
        pad.scroll_into_view_if_needed()
        area = pad.bounding_box()
        assert area is not None
        page.mouse.move(area["x"] + 30, area["y"] + area["height"] * 0.6)
        page.mouse.down()
        for step in range(1, 12):
            page.mouse.move(area["x"] + 30 + step * 25, area["y"] + area["height"] * (0.6 - 0.03 * (step % 4)))
        page.mouse.up()
        page.locator("#signed-name").fill("王建国")
        page.locator("#confirm").check()
        page.locator("#submit-sheet").click()
        expect(page.locator("#submitted-note")).to_be_visible()
        sheet = scoring.view_sheet(cast.expert, app_id)
        assert sheet["submitted_at"] and sheet["signed_name"] == "王建国" and sheet["complete"]
        expect(criterion(page, first).locator('input[value="conform"]')).to_be_disabled()

        # Logging out drops the kept pages: the next person on this tablet cannot open them offline.
        page.get_by_role("button", name="退出登录").click()
        expect(page).to_have_url(re.compile(r"/login$"))
        tablet.set_offline(True)
        with pytest.raises(PlaywrightError, match=r"net::ERR_"):
            page.goto(url)
    finally:
        tablet.close()


def test_the_checklist_fits_a_phone(browser, live_server, cast):
    app_id = on_site(cast)
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        log_in(page, live_server, cast.expert.username, lands_on="/assignments")
        open_checklist(page, f"{live_server}/applications/{app_id}/checklist")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the phone"
        first = page.locator("li.criterion").first
        faces = first.locator(".choice-face").all()
        assert len(faces) >= 2, "the criterion shows no answer choices to measure"
        for face in faces:
            box = face.bounding_box()
            assert box is not None and box["height"] >= 48 and box["width"] >= 48
        first.locator('label[data-result="nonconform"]').tap()
        expect(first.locator('input[value="nonconform"]')).to_be_checked()
        expect_kept_on_device(page, 0)  # online: sent at once
        assert server_sheet(cast, app_id)[first.get_attribute("data-criterion") or ""]["result"] == "nonconform"
    finally:
        phone.close()


def test_a_sheet_opened_before_the_visit_unlocks_itself_on_the_visits_day(browser, live_server, cast):
    """The page is fetched days ahead (no signal on site): before the visit's day (Beijing time) it can only be
    read and says when it opens; on the day, by the tablet's clock, the same page opens for scoring."""
    import datetime as dt

    from review import panels

    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    factories.ensure_leader(cast, app_id)
    day = dt.date.today() + dt.timedelta(days=2)
    panels.schedule_visit(cast.agency_coordinator, app_id, dt.datetime.combine(day, dt.time(9, 30), panels.SHANGHAI),
                          "剑川路1000号")  # fmt: skip
    tablet = browser.new_context(viewport=TABLET, has_touch=True, locale="zh-CN")
    try:
        page = tablet.new_page()
        log_in(page, live_server, cast.expert.username, lands_on="/assignments")
        open_checklist(page, f"{live_server}/applications/{app_id}/checklist")
        expect(page.locator("#before-visit-note")).to_be_visible()
        expect(page.locator("#before-visit-note")).to_contain_text(f"现场核查定于 {day.isoformat()}")
        first = page.locator("li.criterion").first
        expect(first.locator('input[value="conform"]')).to_be_disabled()

        # Early on the visit's day in Shanghai (the day before in UTC), the page opens itself.
        page.clock.set_fixed_time(dt.datetime.combine(day, dt.time(7, 0), panels.SHANGHAI))
        open_checklist(page, f"{live_server}/applications/{app_id}/checklist")
        expect(page.locator("#before-visit-note")).to_be_hidden()
        expect(first.locator('input[value="conform"]')).to_be_enabled()
    finally:
        tablet.close()


def test_the_evidence_pictures_stay_beside_the_criteria_offline(browser, live_server, app, cast, monkeypatch):
    """Issue 12: the tablet shows the frozen figure, its threshold and its picture beside each quantitative
    criterion, and after a reload without a connection the pictures are still there (kept by the worker)."""
    metered(cast.org.id)
    app_id = on_site(cast)
    url = f"{live_server}/applications/{app_id}/checklist"
    tablet = browser.new_context(viewport=TABLET, has_touch=True, locale="zh-CN")
    drawn = (
        "() => { const all = [...document.querySelectorAll('img.evidence-chart')];"
        " return all.length > 0 && all.every(i => i.complete && i.naturalWidth > 0); }"
    )
    try:
        page = tablet.new_page()
        log_in(page, live_server, cast.expert.username, lands_on="/assignments")
        open_checklist(page, url)
        expect(page.locator("#checklist")).to_have_attribute("data-offline-ready", "true")
        access = criterion(page, "2.2")
        expect(access.locator(".evidence li.figure").first).to_have_attribute("data-check", "ACCESS_RATIO_T1")
        expect(access.locator(".evidence li.figure").first).to_contain_text("1.0000")
        expect(access.locator("img.evidence-chart")).to_have_count(1)
        page.wait_for_function(drawn)

        tablet.set_offline(True)
        requests = dead_network(app, monkeypatch)
        page.reload()
        expect(page.locator("#checklist")).to_have_attribute("data-ready", "true")
        expect(criterion(page, "2.2").locator("img.evidence-chart")).to_have_count(1)
        page.wait_for_function(drawn)
        assert [r for r in requests if r.startswith("GET ")] == [], f"the offline reload fetched: {requests}"
    finally:
        tablet.close()
