"""The panel's consensus card on the application page: dissent shown by name, hidden until one's own sheet is in."""

from __future__ import annotations

from review import scoring
from tests import factories
from tests.support.pages import log_in
from workflow import operations


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
