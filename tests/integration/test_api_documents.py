"""The applicant's documents through the API: .docx filled in from the application, as downloads."""

from __future__ import annotations

import io
from urllib.parse import unquote

from docx import Document

from tests import factories
from tests.integration.test_api import bearer

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
