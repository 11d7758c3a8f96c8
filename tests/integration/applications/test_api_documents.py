"""The applicant's documents through the API: .docx filled in from the application, as downloads."""

from __future__ import annotations

import io
from urllib.parse import unquote

from docx import Document

from tests import factories
from tests.support.api import bearer, problem

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)


def test_authenticity_commitment_names_the_unit_and_the_project(client, cast):
    app_id = factories.new_application(cast, project_name="剑川路能源管理中心")
    response = client.get(
        f"/api/v1/applications/{app_id}/documents/authenticity-commitment", headers=bearer(client, cast.applicant)
    )
    assert response.status_code == 200 and response.mimetype == DOCX
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "申报材料真实性承诺书.docx" in unquote(response.headers["Content-Disposition"])
    text = _text(response)
    assert "上海申闵精密制造有限公司" in text and "91110108551385082Q" in text and "剑川路能源管理中心" in text


def test_credit_authorisation_checks_the_id_number_and_fills_the_letter(client, cast):
    app_id = factories.new_application(cast)
    url = f"/api/v1/applications/{app_id}/documents/credit-authorisation"
    headers = bearer(client, cast.applicant)
    bad = client.post(
        url, json={"person_name": "张伟", "id_card": "110105194912310021", "role": "董事"}, headers=headers
    )
    assert bad.status_code == 422
    assert {(e["field"], e["code"]) for e in bad.get_json()["errors"]} == {
        ("id_card", "invalid_id_card"),
        ("role", "not_allowed"),
    }
    ok = client.post(
        url, json={"person_name": "张伟", "id_card": "11010519491231002x", "role": "法人代表"}, headers=headers
    )
    assert ok.status_code == 200 and ok.mimetype == DOCX
    text = _text(ok)
    assert "本人张伟为上海申闵精密制造有限公司的法人代表" in text and "身份证号码：11010519491231002X" in text


def test_only_the_applicant_of_a_visible_application_gets_its_documents(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    path = f"/api/v1/applications/{app_id}/documents/authenticity-commitment"
    assert client.get(path, headers=bearer(client, cast.other_applicant)).status_code == 404
    assert client.get(path, headers=bearer(client, cast.district_reviewer)).status_code == 403


def test_a_monitoring_fund_application_gets_documents_naming_its_own_bodies(client, cast):
    app_id = factories.new_application(cast, programme="monitoring-fund")
    headers = bearer(client, cast.applicant)
    commitment = _text(client.get(f"/api/v1/applications/{app_id}/documents/authenticity-commitment", headers=headers))
    # Seed 000 §二(四): 市市场监管局's fund, 市计测院 reviewing for it; no 验收申请报告 in that programme.
    assert "上海市市场监督管理局及受其委托审核的上海市计量测试技术研究院" in commitment
    assert "验收申请报告" not in commitment and "经济和信息化" not in commitment
    person = {"person_name": "张伟", "id_card": "11010519491231002X", "role": "法人代表"}
    letter = _text(client.post(f"/api/v1/applications/{app_id}/documents/credit-authorisation", json=person,
                               headers=headers))  # fmt: skip
    assert "如获得上海市市场监督管理局扶持，上海市市场监督管理局可在项目实施期内" in letter


# --- 附件2 项目申请表 (seed 002) --------------------------------------------------------------------------------------


def _form_url(app_id: int) -> str:
    return f"/api/v1/applications/{app_id}/documents/application-form"


def test_the_application_form_downloads_as_an_attachment_with_the_seeds_title(client, cast):
    app_id = factories.new_application(cast, kind="park")
    response = client.get(_form_url(app_id), headers=bearer(client, cast.applicant))
    assert response.status_code == 200 and response.mimetype == DOCX
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "能源管理中心建设项目申请表及验收申请报告.docx" in unquote(response.headers["Content-Disposition"])
    assert response.headers["Cache-Control"] == "private, no-store"
    doc = Document(io.BytesIO(response.data))
    assert [p.text for p in doc.paragraphs[:2]] == [
        "上海市工业通信业节能减排和合同能源管理专项资金",
        "（能源管理中心建设）项目申请表",
    ]
    assert "园区申报单位基本概况包括：" in _text(response)


def test_whoever_sees_the_application_gets_its_form_and_nobody_else(client, cast):
    app_id = factories.new_application(cast)
    assert client.get(_form_url(app_id), headers=bearer(client, cast.district_reviewer)).status_code == 404  # a draft
    factories.drive_to(cast, app_id, "district_review")
    for reader in (cast.applicant, cast.district_reviewer, cast.municipal_reviewer):
        assert client.get(_form_url(app_id), headers=bearer(client, reader)).status_code == 200
    for outsider in (cast.other_applicant, cast.other_district_reviewer):
        problem(client.get(_form_url(app_id), headers=bearer(client, outsider)), 404, "not_found")


def test_a_monitoring_fund_application_has_no_annex_2(client, cast):
    app_id = factories.new_application(cast, programme="monitoring-fund")
    body = problem(client.get(_form_url(app_id), headers=bearer(client, cast.applicant)), 404, "not_found")
    assert body["detail"] == "能耗在线监测系统建设专项扶持资金没有附件2项目申请表可打印"
    assert body["programme"] == factories.definition_of(app_id).label  # the round it was opened in
