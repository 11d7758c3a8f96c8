"""The expert panel on the pages: the pool, the draw and the visit on the application, the expert's declarations."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select

from review import panels
from review import pool as expert_pool
from review.models import ExpertProfile
from tests import factories
from tests.support.pages import log_in, text_of
from workflow.accounts import User
from workflow.db import db
from workflow.models import Assignment

SERVICE_USCC = "91310115MA1H7GXL27"


def _expert(cast: factories.Cast) -> Any:
    user = factories.make_user("expert")
    with db.transaction() as session:
        session.get(User, user.id).display_name = f"专家{user.id}"
    expert_pool.add_expert(cast.admin, user.username, factories.uscc(), "能效咨询公司", "徐汇区", ["电力"])
    return user


@pytest.fixture
def verifying(cast) -> int:
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    return app_id


@pytest.fixture
def pool(cast) -> dict[str, Any]:
    return {user.username: user for user in (_expert(cast) for _ in range(3))}


def _drawn(app_id: int) -> list[str]:
    """Usernames on the panel now, the leader first."""
    with db.transaction() as session:
        rows = session.scalars(
            select(Assignment)
            .where(Assignment.application_id == app_id, Assignment.active.is_(True))
            .order_by(Assignment.is_leader.desc(), Assignment.id)
        )
        return [row.user.username for row in rows]


def test_the_coordinator_draws_and_schedules_from_the_application_page(app, cast, verifying, pool):
    browser = log_in(app, cast.agency_coordinator, "en")
    page = browser.get(f"/applications/{verifying}")
    assert page.status_code == 200
    assert 'id="panel-draw"' in page.text and 'id="panel-visit-form"' in page.text
    assert "3 experts are eligible now; 0 are left out" in text_of(page)

    drawn = browser.post(f"/applications/{verifying}/panel", data={"draw-size": "2", "draw-seed": "页面抽取"})
    assert drawn.status_code == 303 and drawn.headers["Location"].endswith(f"/applications/{verifying}")
    members = _drawn(verifying)
    assert members == panels.draw_members("页面抽取", _digest(verifying), sorted(pool), 2)
    page = browser.get(f"/applications/{verifying}")
    shown = text_of(page)
    with db.transaction() as session:
        names = [session.scalars(select(User.display_name).where(User.username == u)).one() for u in members]
    assert f"Panel drawn: {'、'.join(names)} ({names[0]} leads)." in shown  # people by name, not their login
    assert not any(f"({u})" in shown for u in members)
    assert 'id="panel-draw"' not in page.text  # a panel sits: no second draw
    assert all(f'data-username="{name}"' in page.text for name in members)
    assert "页面抽取" in shown and "Has not declared yet" in shown

    visit = {"visit-day": "2099-05-06", "visit-time": "09:30", "visit-place": "剑川路1000号", "visit-note": "带安全帽"}
    scheduled = browser.post(f"/applications/{verifying}/visit", data=visit)
    assert scheduled.status_code == 303
    shown = text_of(browser.get(f"/applications/{verifying}"))
    assert "Site visit set for 2099-05-06 09:30." in shown and "剑川路1000号" in shown


def _digest(app_id: int) -> str:
    with db.transaction() as session:
        return panels.draws_of(session, app_id)[0].pool_digest


def test_a_draw_or_visit_that_does_not_fit_is_shown_with_its_reason(app, cast, verifying, pool):
    browser = log_in(app, cast.agency_coordinator, "en")
    refused = browser.post(f"/applications/{verifying}/panel", data={"draw-size": "4"})
    assert refused.status_code == 422
    assert "Draw at least 1 expert and no more than are eligible now." in text_of(refused)
    assert _drawn(verifying) == []
    past = {"visit-day": "2000-01-01", "visit-time": "09:00", "visit-place": "现场"}
    refused = browser.post(f"/applications/{verifying}/visit", data=past)
    assert refused.status_code == 422 and "The visit must be in the future." in text_of(refused)
    for role in ("expert", "municipal_reviewer", "applicant"):
        other = log_in(app, cast.by_role[role])
        assert other.post(f"/applications/{verifying}/panel", data={"draw-size": "1"}).status_code == 403


def test_an_expert_declares_before_the_application_opens(app, cast, verifying, pool):
    panels.draw_panel(cast.agency_coordinator, verifying, 1)
    [name] = _drawn(verifying)
    browser = log_in(app, pool[name], "en")
    assert browser.get(f"/applications/{verifying}").status_code == 404

    listed = browser.get("/assignments")
    assert listed.status_code == 200
    shown = text_of(listed)
    assert "能源管理中心建设项目" in shown and cast.org.name in shown and cast.org.district in shown
    assert "Waiting for your declaration." in shown
    assert f'action="/applications/{verifying}/panel/declaration"' in listed.text
    assert 'href="/assignments"' in listed.text  # the navigation links the expert's assignments

    declared = browser.post(f"/applications/{verifying}/panel/declaration", data={f"declare{verifying}-conflict": "no"})
    assert declared.status_code == 303 and declared.headers["Location"].endswith(f"/applications/{verifying}")
    page = browser.get(f"/applications/{verifying}")
    assert page.status_code == 200
    assert "You declared no conflict of interest. You lead the panel." in text_of(page)
    assert 'id="panel-draw"' not in page.text and 'id="panel-visit-form"' not in page.text


def test_a_conflict_needs_a_note_then_the_expert_leaves_the_panel(app, cast, verifying, pool):
    panels.draw_panel(cast.agency_coordinator, verifying, 1)
    [name] = _drawn(verifying)
    browser = log_in(app, pool[name], "en")
    url = f"/applications/{verifying}/panel/declaration"
    refused = browser.post(url, data={f"declare{verifying}-conflict": "yes"})
    assert refused.status_code == 422 and "Please fill this in." in text_of(refused)
    left = browser.post(url, data={f"declare{verifying}-conflict": "yes", f"declare{verifying}-note": "曾任该单位顾问"})
    assert left.status_code == 303 and left.headers["Location"].endswith("/assignments")
    shown = text_of(browser.get("/assignments"))
    assert "You have left the panel and a replacement was drawn." in shown
    assert "you have left this panel" in shown
    assert browser.get(f"/applications/{verifying}").status_code == 404
    assert len(_drawn(verifying)) == 1 and name not in _drawn(verifying)


def test_only_experts_have_assignments_and_only_keepers_see_the_pool(app, cast):
    assert log_in(app, cast.municipal_reviewer).get("/assignments").status_code == 403
    for role in ("expert", "municipal_reviewer", "applicant"):
        assert log_in(app, cast.by_role[role]).get("/experts").status_code == 403
    assert 'href="/experts"' in log_in(app, cast.agency_coordinator).get("/applications").text


def test_the_pool_page_adds_experts_with_the_same_checks_and_filters(app, cast):
    browser = log_in(app, cast.admin, "en")
    assert browser.get("/experts").status_code == 200
    form = {
        "expert-username": cast.expert.username,
        "expert-employer_name": "上海节能咨询有限公司",
        "expert-employer_uscc": "91310115MA1H7GXL2D",
        "expert-district": "徐汇区",
        "expert-specialities": "电力、 热力,电力",
    }
    refused = browser.post("/experts", data=form)
    assert refused.status_code == 422
    assert "This is not a valid unified social credit code" in text_of(refused)
    refused = browser.post("/experts", data={**form, "expert-username": cast.auditor.username})
    assert refused.status_code == 422 and "This account does not have the Expert role." in text_of(refused)

    added = browser.post("/experts", data={**form, "expert-employer_uscc": SERVICE_USCC})
    assert added.status_code == 303
    with db.transaction() as session:
        profile = session.scalars(select(ExpertProfile).where(ExpertProfile.user_id == cast.expert.id)).one()
        assert (profile.employer_uscc, profile.district, profile.specialities) == (
            SERVICE_USCC,
            "徐汇区",
            ["电力", "热力"],
        )
    other = factories.make_user("expert")
    expert_pool.add_expert(cast.admin, other.username, factories.uscc(), "乙公司", "闵行区", ["暖通"])

    listed = browser.get("/experts")
    assert f"{cast.expert.username} is in the expert pool." in text_of(listed)
    assert re.findall(r'<li class="card" data-username="([^"]+)"', listed.text) == sorted(
        [cast.expert.username, other.username]
    )
    by_district = browser.get("/experts?district=闵行区")
    assert re.findall(r'<li class="card" data-username="([^"]+)"', by_district.text) == [other.username]
    by_speciality = browser.get("/experts?speciality=热力")
    assert re.findall(r'<li class="card" data-username="([^"]+)"', by_speciality.text) == [cast.expert.username]


def test_the_applicant_sees_the_visit_but_not_who_visits(app, cast, verifying, pool):
    browser = log_in(app, cast.applicant, "en")
    assert 'id="panel"' not in browser.get(f"/applications/{verifying}").text  # nothing to show yet
    panels.draw_panel(cast.agency_coordinator, verifying, 2)
    when = dt.datetime(2099, 5, 6, 9, 30)
    panels.schedule_visit(cast.agency_coordinator, verifying, when, "剑川路1000号")
    page = browser.get(f"/applications/{verifying}")
    shown = text_of(page)
    assert 'id="panel"' in page.text and "2099-05-06 09:30" in shown and "剑川路1000号" in shown
    assert not any(name in page.text for name in pool)


def test_panel_pages_carry_no_inline_style_or_script(app, cast, verifying, pool):
    pages = [
        (cast.agency_coordinator, f"/applications/{verifying}"),
        (cast.admin, "/experts"),
        (cast.expert, "/assignments"),
    ]
    for user, url in pages:
        page = log_in(app, user).get(url)
        assert page.status_code == 200
        assert " style=" not in page.text and "<script>" not in page.text
