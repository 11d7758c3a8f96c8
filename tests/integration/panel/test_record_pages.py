"""The verification record downloaded through the page and the API: who may, and what it holds after a real panel."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from urllib.parse import quote

from docx import Document

from meters import snapshots
from review import photos, scoring
from review.checklists import load
from tests import factories
from tests.support.api import bearer, problem
from tests.support.meters import metered
from tests.support.pages import log_in, text_of
from tests.support.uploads import png
from workflow import operations
from workflow.accounts import User
from workflow.db import db
from workflow.engine import fire

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LEADER, SECOND = "张组长", "李专家"
DISPUTED = "3.2"  # the second expert finds long data gaps where the leader finds none
CHECKLIST = load("emc-checklist-enterprise@1")
# A drawn signature as a real PNG (factories.SIGNATURE_PNG passes the magic-byte check but no reader decodes it).
SIGNATURE = png(240, 80)


def page_url(app_id: int) -> str:
    return f"/applications/{app_id}/documents/verification-record"


def api_url(app_id: int) -> str:
    return f"/api/v1/applications/{app_id}/documents/verification-record"


def _rename(user: User, name: str) -> None:
    with db.transaction() as session:
        row = session.get(User, user.id)
        assert row is not None
        row.display_name = name


def scored_panel(cast: factories.Cast) -> int:
    """An application in site_verification whose two experts have signed sheets that differ on one criterion."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    _rename(cast.expert, LEADER)
    _rename(cast.expert2, SECOND)
    factories.ensure_leader(cast, app_id)
    operations.assign(cast.agency_coordinator, app_id, cast.expert2.id)
    factories.declare_clear(app_id, cast.expert2.id)
    factories.score_sheet(cast.expert, app_id, submit=False)
    scoring.submit_sheet(cast.expert, app_id, SIGNATURE, LEADER, True, factories.blob_store())
    results = [
        {"criterion": c.id, "result": "nonconform" if c.id == DISPUTED else "conform", "score": "9"}
        for c in CHECKLIST.criteria_for("enterprise")
    ]
    results[-1]["note"] = "现场演示正常"
    scoring.save_answers(cast.expert2, app_id, results)
    taken = dt.datetime(2026, 5, 12, 2, 5, tzinfo=dt.UTC)  # 10:05 in Shanghai
    photos.add_photo(
        cast.expert2, app_id, DISPUTED, png(800, 600), factories.blob_store(),
        client_id="gap-1", taken_at=taken, latitude=31.02571, longitude=121.43362, accuracy_m=8,
    )  # fmt: skip
    scoring.submit_sheet(cast.expert2, app_id, SIGNATURE, SECOND, True, factories.blob_store())
    factories.note_visit_steps(app_id)
    return app_id


def conclude(cast: factories.Cast, app_id: int) -> None:
    fire(app_id, "conclude_pass", cast.expert, {"comment": "主要条款符合；3.2 数据断点已当场说明"})


def _doc(response: Any) -> Any:
    assert response.status_code == 200, response.text
    assert response.mimetype == DOCX
    return Document(io.BytesIO(response.data))


def _result_of(doc: Any, criterion: str) -> str:
    table = next(t for t in doc.tables if t.rows[0].cells[-1].text == "核查结果")
    return str(next(r.cells[3].text for r in table.rows if r.cells[2].text == CHECKLIST.by_id[criterion].text))


def test_after_the_conclusion_the_page_serves_the_record_with_dissent_and_the_conclusion(app, cast):
    app_id = scored_panel(cast)
    conclude(cast, app_id)
    response = log_in(app, cast.municipal_reviewer).get(page_url(app_id))
    doc = _doc(response)
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert quote(f"现场核查记录_{app_id}.docx") in disposition
    assert response.headers["Cache-Control"] == "private, no-store"
    assert f"{LEADER}：符合" in _result_of(doc, DISPUTED) and f"{SECOND}：不符合" in _result_of(doc, DISPUTED)
    assert _result_of(doc, "3.1") == "符合"
    assert _result_of(doc, "2.3") == "不适用（仅适用于数据中心）"  # an enterprise, not a data centre
    table = next(t for t in doc.tables if t.rows[0].cells[-1].text == "核查结果")
    last = table.rows[-1].cells
    assert last[0].text == "核查结论" and last[2].text.startswith("通过")
    assert "理由：主要条款符合；3.2 数据断点已当场说明" in last[2].text and f"专家组组长：{LEADER}" in last[2].text
    facts = {r.cells[0].text: r.cells[1].text for r in doc.tables[0].rows}
    assert facts["申请编号"] == str(app_id) and facts["所属地区"] == "闵行区"
    assert facts["专家组"].startswith(f"{LEADER}（组长）") and SECOND in facts["专家组"]
    assert len(doc.inline_shapes) == 3  # both signatures and the second expert's photo
    caption = next(p.text for p in doc.paragraphs if p.text.startswith("照片1"))
    assert f"条款 {DISPUTED}" in caption and f"专家 {SECOND}" in caption and "2026-05-12 10:05" in caption
    sheets = [t for t in doc.tables if t.rows[0].cells[0].text == "条款"]
    second = {r.cells[0].text: [c.text for c in r.cells[1:]] for r in sheets[1].rows[1:]}
    assert second[DISPUTED] == ["不符合", "9.00", ""]


def test_the_api_serves_the_same_record_as_an_attachment(app, client, cast):
    app_id = scored_panel(cast)
    conclude(cast, app_id)
    response = client.get(api_url(app_id), headers=bearer(client, cast.finance_officer))
    doc = _doc(response)
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert str(app_id) in response.headers["Content-Disposition"]
    assert f"{SECOND}：不符合" in _result_of(doc, DISPUTED)


def test_while_the_panel_decides_the_applicant_is_refused_and_the_panel_reads_a_record_in_progress(app, client, cast):
    app_id = scored_panel(cast)
    assert log_in(app, cast.applicant).get(page_url(app_id)).status_code == 403
    problem(client.get(api_url(app_id), headers=bearer(client, cast.applicant)), 403, "forbidden")
    doc = _doc(log_in(app, cast.expert2).get(page_url(app_id)))
    table = next(t for t in doc.tables if t.rows[0].cells[-1].text == "核查结果")
    assert table.rows[-1].cells[2].text == "专家组尚未作出核查结论。"
    assert f"{SECOND}：不符合" in _result_of(doc, DISPUTED)  # both sheets are signed: the dissent already shows


def test_after_the_conclusion_the_applicant_may_download_it(app, client, cast):
    app_id = scored_panel(cast)
    conclude(cast, app_id)
    assert _doc(log_in(app, cast.applicant).get(page_url(app_id)))
    assert _doc(client.get(api_url(app_id), headers=bearer(client, cast.applicant)))


def test_who_may_read_it(app, client, cast):
    app_id = scored_panel(cast)
    for user in (cast.expert, cast.expert2, cast.agency_coordinator, cast.municipal_reviewer, cast.admin,
                 cast.auditor):  # fmt: skip
        assert log_in(app, user).get(page_url(app_id)).status_code == 200, user.role
    # Finance sees the file from the funding review on (issue 10 item 8), not while the panel verifies.
    assert log_in(app, cast.finance_officer).get(page_url(app_id)).status_code == 404
    # Not visible at all: exactly as if the application did not exist.
    problem(client.get(api_url(app_id), headers=bearer(client, cast.other_district_reviewer)), 404, "not_found")
    assert log_in(app, cast.other_district_reviewer).get(page_url(app_id)).status_code == 404
    assert log_in(app, cast.other_applicant).get(page_url(app_id)).status_code == 404
    outsider = factories.make_user("expert")  # not on this panel
    problem(client.get(api_url(app_id), headers=bearer(client, outsider)), 404, "not_found")
    # The district authority sees the application but is not party to the site verification.
    problem(client.get(api_url(app_id), headers=bearer(client, cast.district_reviewer)), 403, "forbidden")


def test_no_panel_no_record(app, client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    problem(client.get(api_url(app_id), headers=bearer(client, cast.municipal_reviewer)), 404, "not_found")
    page = log_in(app, cast.municipal_reviewer).get(f"/applications/{app_id}")
    assert page.status_code == 200  # the page itself, not an error page that lacks the card too
    assert 'id="verification-record"' not in page.text


def test_the_detail_page_card_shows_for_readers_and_for_the_applicant_only_after_the_conclusion(app, cast):
    app_id = scored_panel(cast)
    detail = f"/applications/{app_id}"
    expert_page = log_in(app, cast.expert).get(detail)
    assert 'id="verification-record"' in expert_page.text
    assert f'href="{page_url(app_id)}"' in expert_page.text
    assert "附表1" in text_of(expert_page)
    assert 'id="verification-record"' not in log_in(app, cast.applicant).get(detail).text
    assert 'id="verification-record"' not in log_in(app, cast.district_reviewer).get(detail).text
    conclude(cast, app_id)
    applicant_page = log_in(app, cast.applicant, lang="en").get(detail)
    assert 'id="verification-record"' in applicant_page.text and "Passed" in applicant_page.text


def test_the_visit_and_the_experts_employers_appear_on_the_front(app, cast):
    from review import panels
    from review import pool as expert_pool

    app_id = scored_panel(cast)
    expert_pool.add_expert(cast.admin, cast.expert.username, factories.uscc(), "上海节能技术服务中心", "浦东新区")
    when = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    panels.schedule_visit(cast.agency_coordinator, app_id, when, "闵行区剑川路 100 号")
    doc = _doc(log_in(app, cast.auditor).get(page_url(app_id)))
    facts = {r.cells[0].text: r.cells[1].text for r in doc.tables[0].rows}
    assert facts["核查地点"] == "闵行区剑川路 100 号"
    assert facts["核查时间"] == when.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    assert f"{LEADER}（组长），上海节能技术服务中心" in facts["专家组"]


def test_the_record_and_the_consensus_show_the_figures_the_sheets_showed(app, cast):
    """Issue 12: the verification record prints, under each criterion's result, the evidence figures the experts
    had beside it, names the snapshot (period, hash) and carries its pictures; the consensus shows the same."""
    metered(cast.org.id)
    app_id = scored_panel(cast)
    with db.transaction() as session:
        frozen = snapshots.latest(session, app_id)
        assert frozen is not None
        snapshot_id, digest = frozen.id, frozen.sha256
    page = log_in(app, cast.expert).get(f"/applications/{app_id}")
    card = page.text[page.text.index('id="consensus"') :]
    assert 'data-check="ACCESS_RATIO_T1">一级（关口）表接入率 1.0000' in card  # by its name (issue 15 item 5)
    conclude(cast, app_id)
    doc = _doc(log_in(app, cast.municipal_reviewer).get(page_url(app_id)))
    assert "计量证据 一级（关口）表接入率：1.0000（阈值 1.00，达到）" in _result_of(doc, "2.2")
    text = "\n".join(p.text for p in doc.paragraphs)
    assert f"证据快照 {snapshot_id}" in text and digest in text
    assert "各表计每日数据完整率（红色为缺失，绿色为完整）" in text
    assert len(doc.inline_shapes) >= 4  # two signatures, the photo, and the evidence pictures
