"""The panel's consensus card on the application page: dissent shown by name, hidden until one's own sheet is in."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from review import scoring
from review.models import ChecklistSheet
from tests import factories
from tests.support.pages import log_in
from workflow import operations
from workflow.accounts import User
from workflow.db import as_utc, db


def _two_experts(cast: factories.Cast) -> int:
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    factories.ensure_leader(cast, app_id)
    operations.assign(cast.agency_coordinator, app_id, cast.expert2.id)
    factories.declare_clear(app_id, cast.expert2.id)
    factories.score_sheet(cast.expert, app_id)
    return app_id


def test_the_leader_sees_who_said_what_and_where_the_panel_disagrees(app, cast):  # type: ignore[no-untyped-def]
    app_id = _two_experts(cast)
    sheet = scoring.view_sheet(cast.expert2, app_id)
    results = [
        {"criterion": c["id"], "result": "nonconform" if c["id"] == "3.2" else "conform", "note": ""}
        for cat in sheet["categories"]
        for c in cat["criteria"]
    ]
    results[-1]["note"] = "断数超过72小时"
    scoring.save_answers(cast.expert2, app_id, results)
    scoring.submit_sheet(cast.expert2, app_id, factories.SIGNATURE_PNG, "乙", True, factories.blob_store())

    page = log_in(app, cast.expert).get(f"/applications/{app_id}")
    assert page.status_code == 200
    card = page.text[page.text.index('id="consensus"') :]
    assert 'class="agreement-disagree"' in card
    row = card[card.index('<th scope="row">3.2</th>') :].split("</tr>")[0]
    cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
    assert [c.split("<br>")[0].strip() for c in cells[:2]] == ["符合", "不符合"]  # the leader's, then expert2's
    assert "不一致" in cells[2]
    assert "断数超过72小时" in card


def test_an_expert_sees_the_others_only_after_signing(app, cast):  # type: ignore[no-untyped-def]
    app_id = _two_experts(cast)  # the leader has signed; expert2 has not
    waiting = log_in(app, cast.expert2).get(f"/applications/{app_id}")
    assert waiting.status_code == 200
    card = waiting.text[waiting.text.index('id="consensus"') :]
    assert "<table" not in card.split("</section>")[0]


def test_the_applicant_gets_no_consensus_card(app, cast):  # type: ignore[no-untyped-def]
    app_id = _two_experts(cast)
    page = log_in(app, cast.applicant).get(f"/applications/{app_id}")
    assert page.status_code == 200
    assert 'id="consensus"' not in page.text


def test_the_card_names_the_experts_and_gives_beijing_time(app, cast):  # type: ignore[no-untyped-def]
    app_id = _two_experts(cast)  # the leader has signed
    with db.transaction() as session:
        session.get(User, cast.expert.id).display_name = "王工"  # type: ignore[union-attr]
        signed = session.scalars(
            select(ChecklistSheet.submitted_at).where(
                ChecklistSheet.application_id == app_id, ChecklistSheet.expert_id == cast.expert.id
            )
        ).one()
    beijing = as_utc(signed).astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    page = log_in(app, cast.expert).get(f"/applications/{app_id}")
    assert page.status_code == 200
    card = page.text[page.text.index('id="consensus"') :].split("</section>")[0]
    assert "王工 (组长):" in card or "王工 (leader):" in card
    assert beijing in card  # the sheet's signing time as Beijing reads it, not UTC
    overall = card[card.index('id="consensus-overall"') :].split("</p>")[0]
    assert "王工:" in overall and f"{cast.expert.username}:" not in overall
