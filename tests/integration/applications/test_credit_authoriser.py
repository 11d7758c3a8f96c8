"""The credit-query authoriser through the API: stored sealed, shown masked, the letter regenerated; keys rotated."""

from __future__ import annotations

import io
import json

from docx import Document
from sqlalchemy import func, select

from applications.models import CreditAuthoriser
from storage import sealed
from tests import factories
from tests.support.api import bearer, problem
from tests.support.authorisers import NUMBER, PERSON, audit_events, authoriser_rows, credit_letter_url
from tests.support.openapi import Conformance
from web.core import openapi
from workflow.db import db

OTHER = "310104198001010017"  # valid too
MASKED = "110***********002X"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)


def _keys(app) -> list[str]:  # type: ignore[no-untyped-def]
    return list(app.config["FIELD_ENCRYPTION_KEYS"])


def test_the_id_number_is_stored_sealed_and_the_letter_has_it_in_full(app, client, cast):
    app_id = factories.new_application(cast)
    headers = bearer(client, cast.applicant)
    posted = client.post(credit_letter_url(app_id), json=PERSON, headers=headers)
    assert posted.status_code == 200 and posted.mimetype == DOCX
    assert f"身份证号码：{NUMBER}" in _text(posted)

    [row] = authoriser_rows(app_id)
    assert NUMBER not in row.id_card_sealed and NUMBER.lower() not in row.id_card_sealed
    assert row.id_card_masked == MASKED and (row.person_name, row.role) == ("张伟", "法人代表")
    assert row.created_by_id == cast.applicant.id
    assert sealed.sealer(_keys(app)).open(row.id_card_sealed) == NUMBER

    again = client.get(credit_letter_url(app_id), headers=headers)  # regenerated from the stored row
    assert again.status_code == 200
    assert "本人张伟为上海申闵精密制造有限公司的法人代表" in _text(again) and f"身份证号码：{NUMBER}" in _text(again)
    assert again.headers["Cache-Control"] == "private, no-store"


def test_the_detail_shows_the_authoriser_masked_and_the_audit_never_the_number(client, cast):
    app_id = factories.new_application(cast)
    headers = bearer(client, cast.applicant)
    assert client.get(f"/api/v1/applications/{app_id}", headers=headers).get_json()["credit_authoriser"] is None
    assert client.post(credit_letter_url(app_id), json=PERSON, headers=headers).status_code == 200

    shown = {"person_name": "张伟", "role": "法人代表", "id_card_masked": MASKED}
    detail = client.get(f"/api/v1/applications/{app_id}", headers=headers)
    assert detail.get_json()["credit_authoriser"] == shown and NUMBER not in detail.get_data(as_text=True)
    factories.drive_to(cast, app_id, "district_review")
    reviewed = client.get(f"/api/v1/applications/{app_id}", headers=bearer(client, cast.district_reviewer))
    assert reviewed.get_json()["credit_authoriser"] == shown  # the reviewer knows who, not the number

    [event] = [e for e in audit_events(app_id) if e.outcome == "authoriser_set"]
    assert event.payload["id_card_masked"] == MASKED and event.actor_id == cast.applicant.id
    every_payload = json.dumps([e.payload for e in audit_events(app_id)], ensure_ascii=False).upper()
    assert NUMBER not in every_payload
    history = client.get(f"/api/v1/applications/{app_id}/history", headers=headers).get_data(as_text=True)
    assert NUMBER not in history.upper() and MASKED in history


def test_a_new_authoriser_becomes_current_and_the_old_one_is_kept(client, cast):
    app_id = factories.new_application(cast)
    headers = bearer(client, cast.applicant)
    client.post(credit_letter_url(app_id), json=PERSON, headers=headers)
    second = {"person_name": "李娜", "id_card": OTHER, "role": "项目负责人"}
    assert client.post(credit_letter_url(app_id), json=second, headers=headers).status_code == 200
    assert [r.person_name for r in authoriser_rows(app_id)] == ["张伟", "李娜"]
    text = _text(client.get(credit_letter_url(app_id), headers=headers))
    assert "本人李娜" in text and f"身份证号码：{OTHER}" in text and NUMBER not in text
    detail = client.get(f"/api/v1/applications/{app_id}", headers=headers).get_json()
    assert detail["credit_authoriser"]["id_card_masked"] == "310***********0017"


def test_no_letter_before_an_authoriser_is_recorded(client, cast):
    app_id = factories.new_application(cast)
    missing = problem(client.get(credit_letter_url(app_id), headers=bearer(client, cast.applicant)), 404, "not_found")
    assert "no credit authoriser is recorded" in missing["detail"]


def test_a_bad_id_number_is_refused_by_field_and_nothing_is_kept(client, cast):
    app_id = factories.new_application(cast)
    headers = bearer(client, cast.applicant)
    body = {**PERSON, "id_card": "110105194912310021", "person_name": "  "}
    refused = problem(client.post(credit_letter_url(app_id), json=body, headers=headers), 422, "invalid_input")
    assert {(e["field"], e["code"]) for e in refused["errors"]} == {
        ("id_card", "invalid_id_card"),
        ("person_name", "required"),
    }
    assert "110105194912310021" not in json.dumps(refused, ensure_ascii=False)
    assert authoriser_rows(app_id) == []
    assert not [e for e in audit_events(app_id) if e.outcome == "authoriser_set"]


def test_only_the_applicants_own_organisation_gets_the_letter(client, cast):
    app_id = factories.new_application(cast)
    client.post(credit_letter_url(app_id), json=PERSON, headers=bearer(client, cast.applicant))
    other = bearer(client, cast.other_applicant)
    problem(client.get(credit_letter_url(app_id), headers=other), 404, "not_found")
    problem(
        client.post(credit_letter_url(app_id), json={**PERSON, "person_name": "冒名"}, headers=other), 404, "not_found"
    )
    factories.drive_to(cast, app_id, "district_review")
    reviewer = bearer(client, cast.district_reviewer)  # sees the application, but the letter is not theirs
    problem(client.get(credit_letter_url(app_id), headers=reviewer), 403, "forbidden")
    problem(client.post(credit_letter_url(app_id), json=PERSON, headers=reviewer), 403, "forbidden")
    assert [r.person_name for r in authoriser_rows(app_id)] == ["张伟"]


def test_after_submission_the_authoriser_stays_and_cannot_be_changed(client, cast):
    app_id = factories.new_application(cast)
    headers = bearer(client, cast.applicant)
    client.post(credit_letter_url(app_id), json=PERSON, headers=headers)
    factories.drive_to(cast, app_id, "district_review")
    refused = problem(client.post(credit_letter_url(app_id), json=PERSON, headers=headers), 409, "not_allowed_in_state")
    assert refused["state"] == "district_review"
    assert client.get(credit_letter_url(app_id), headers=headers).status_code == 200  # printing it again is still fine
    assert len(authoriser_rows(app_id)) == 1


def test_the_new_and_changed_routes_answer_as_documented(app, client, cast):
    with app.app_context():
        conform = Conformance(openapi.document())
    app_id = factories.new_application(cast)
    headers = bearer(client, cast.applicant)
    path = "/applications/{application_id}/documents/credit-authorisation"
    conform.check(client.get(credit_letter_url(app_id), headers=headers), path, "get")
    conform.check(
        client.post(credit_letter_url(app_id), json={**PERSON, "role": "董事"}, headers=headers), path, "post"
    )
    client.post(credit_letter_url(app_id), json=PERSON, headers=headers)
    conform.check(
        client.get(f"/api/v1/applications/{app_id}", headers=headers), "/applications/{application_id}", "get"
    )
    history = client.get(f"/api/v1/applications/{app_id}/history", headers=headers)
    conform.check(history, "/applications/{application_id}/history", "get")


# --- keys rotate --------------------------------------------------------------------------------------------------


def test_rotation_reseals_every_row_with_the_first_key(app, client, runner, cast, monkeypatch):
    old = _keys(app)
    apps = [factories.new_application(cast) for _ in range(2)]
    headers = bearer(client, cast.applicant)
    for app_id in apps:
        client.post(credit_letter_url(app_id), json=PERSON, headers=headers)
    with db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(CreditAuthoriser))
    before = {r.id: r.id_card_sealed for app_id in apps for r in authoriser_rows(app_id)}

    new = sealed.generate_key()
    monkeypatch.setitem(app.config, "FIELD_ENCRYPTION_KEYS", [new, *old])
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert f"re-sealed {total} credit authoriser ID numbers with key 1 of {1 + len(old)}" in result.output
    assert NUMBER not in result.output and new not in result.output

    for app_id in apps:
        [row] = authoriser_rows(app_id)
        assert row.id_card_sealed != before[row.id]
        assert sealed.Sealer([new]).open(row.id_card_sealed) == NUMBER  # the old keys can now go

    monkeypatch.setitem(app.config, "FIELD_ENCRYPTION_KEYS", [new])
    assert f"身份证号码：{NUMBER}" in _text(client.get(credit_letter_url(apps[0]), headers=headers))


def test_rotation_without_the_key_that_sealed_a_row_changes_nothing(app, client, runner, cast, monkeypatch):
    app_id = factories.new_application(cast)
    client.post(credit_letter_url(app_id), json=PERSON, headers=bearer(client, cast.applicant))
    [before] = authoriser_rows(app_id)

    monkeypatch.setitem(app.config, "FIELD_ENCRYPTION_KEYS", [sealed.generate_key()])
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 1
    assert f"credit authoriser {before.id}" in result.output and "nothing was changed" in result.output
    assert [r.id_card_sealed for r in authoriser_rows(app_id)] == [before.id_card_sealed]


def test_keys_generate_prints_a_usable_key(runner):
    result = runner.invoke(args=["keys", "generate"])
    assert result.exit_code == 0
    assert sealed.Sealer([result.output.strip()]).open(sealed.Sealer([result.output.strip()]).seal("x")) == "x"
