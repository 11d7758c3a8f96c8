"""The roads past the input guard that the first round of issue 10 (items 5–7) left open: each answered 500, took
half a minute, or kept what PostgreSQL cannot hold; each is now 422 naming the field, or harmless."""

from __future__ import annotations

import io
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from review import funding
from tests import factories
from tests.factories import on_site_visit_day as _on_site
from tests.support.api import bearer, problem
from tests.support.pages import log_in
from workflow.db import db
from workflow.models import Application, AuditEvent

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
CREATE = '{"programme": "emc-acceptance", "kind": "enterprise", "project_name": %s}'


def _applications() -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Application)) or 0


# --- a JSON body sent without a Content-Type ----------------------------------------------------------------------


@pytest.mark.parametrize("name", [r'"\ud800 项目"', r'"项目\u0000"', "1e400"], ids=["lone-surrogate", "NUL", "1e400"])
def test_a_json_body_without_a_content_type_is_checked_like_any_other(client, cast, name):
    """The API reads a body with no Content-Type as JSON, but the guard looked only at application/json: the lone
    surrogate was a 500 (canonical_json), the NUL a 500 on PostgreSQL and a stored row on SQLite."""
    before = _applications()
    answer = client.open(
        "/api/v1/applications", method="POST", data=CREATE % name, headers=bearer(client, cast.applicant)
    )
    error = problem(answer, 422, "invalid_input")["errors"][0]
    assert error["field"] == "project_name" and error["code"] in ("illegal_character", "not_finite")
    assert _applications() == before


# --- multipart text fields: a photo's criterion and client_id ------------------------------------------------------


@pytest.mark.parametrize("client_id", ["IMG\x000001", "\x01IMG"], ids=["NUL", "U+0001"])
def test_a_control_character_in_a_photos_fields_is_refused_by_the_api(client, cast, client_id):
    """The guard leaves multipart bodies to their views (an attachment is streamed); the photo's fields were kept
    as sent, and a NUL was a 500 on PostgreSQL."""
    app_id = _on_site(cast)
    form = {"criterion": "2.1", "client_id": client_id, "photo": (io.BytesIO(JPEG), "IMG_0001.jpg")}
    answer = client.post(
        f"/api/v1/applications/{app_id}/checklist/photos",
        data=form,
        headers=bearer(client, cast.expert),
        content_type="multipart/form-data",
    )
    assert [e["field"] for e in problem(answer, 422, "invalid_input")["errors"]] == ["client_id"]


def test_a_control_character_in_a_photos_fields_is_refused_on_the_page(app, cast):
    app_id = _on_site(cast)
    browser = log_in(app, cast.expert)
    form = {"criterion": "2.1", "client_id": "photo\x00-1", "photo": (io.BytesIO(factories.SIGNATURE_PNG), "p.png")}
    answer = browser.post(f"/applications/{app_id}/checklist/photos", data=form)
    assert answer.status_code == 422 and [e["field"] for e in answer.json["errors"]] == ["client_id"]


# --- headers that are stored ---------------------------------------------------------------------------------------


def test_a_request_id_that_could_not_be_stored_is_replaced(client, cast):
    """X-Request-Id goes into every audit event of the request: a NUL in it was a 500 on PostgreSQL."""
    answer = client.post(
        "/api/v1/applications",
        json={"programme": "emc-acceptance", "kind": "enterprise", "project_name": "项目"},
        headers={**bearer(client, cast.applicant), "X-Request-Id": "probe\x00one"},
    )
    assert answer.status_code == 201
    request_id = answer.headers["X-Request-Id"]
    assert "\x00" not in request_id and len(request_id) == 32
    with db.transaction() as session:
        kept = session.scalars(select(AuditEvent.request_id).where(AuditEvent.application_id == answer.json["id"]))
        assert set(kept) == {request_id}
    echoed = client.get("/api/v1/programmes", headers={"X-Request-Id": "trace-42"})
    assert echoed.headers["X-Request-Id"] == "trace-42"  # a printable id is still the client's own


def test_an_idempotency_key_with_a_control_character_is_422(client, cast):
    """The key is stored with the answer it replays: a NUL in it was a 500 on PostgreSQL."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    answer = client.post(
        f"/api/v1/applications/{app_id}/transitions",
        json={"trigger": "return_for_correction", "comment": "请补充盖章页"},
        headers={**bearer(client, cast.district_reviewer), "Idempotency-Key": "retry\x00-1"},
    )
    assert [e["field"] for e in problem(answer, 422, "invalid_input")["errors"]] == ["Idempotency-Key"]
    assert factories.state_of(app_id)[0] == "district_review"


# --- numbers no sum can hold --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"tier1_points": "1e5000"},
        {k: "9e999999" for k in ("total_investment_wan", "investment_construction_wan", "investment_equipment_wan",
                                 "investment_software_wan", "investment_other_wan")},
    ],
    ids=["count-1e5000", "investment-9e999999"],
)  # fmt: skip
def test_a_form_number_too_large_for_any_sum_is_named_not_computed(client, cast, changes):
    """The draft kept the value, then its own answer and every later GET were a 500 (an int of 5,000 digits, a
    Decimal sum overflowing); "1e999999" in a count took half a minute first. The form now names it."""
    app_id = factories.new_application(cast)
    headers = bearer(client, cast.applicant)
    started = time.monotonic()
    saved = client.patch(f"/api/v1/applications/{app_id}", json={"form": changes}, headers={**headers, "If-Match": "1"})
    assert saved.status_code == 200 and time.monotonic() - started < 5
    assert client.get(f"/api/v1/applications/{app_id}", headers=headers).status_code == 200
    refused = client.post(f"/api/v1/applications/{app_id}/transitions", json={"trigger": "submit"}, headers=headers)
    errors = problem(refused, 422, "guard_failed")["errors"]
    assert {e["field"] for e in errors if e["code"] == "too_large"} == set(changes)
    assert factories.state_of(app_id)[0] == "draft"


def test_a_count_of_5000_digits_from_the_form_page_is_kept_as_text_and_named(app, cast):
    """The page turned a string of digits into an int: 5,000 digits raised ValueError (500)."""
    app_id = factories.new_application(cast)
    browser = log_in(app, cast.applicant)
    assert browser.post(f"/applications/{app_id}/form", data={"tier1_points": "9" * 5000}).status_code == 303
    with db.transaction() as session:
        assert session.get(Application, app_id).form["tier1_points"] == "9" * 5000  # type: ignore[union-attr]
    assert browser.get(f"/applications/{app_id}/form").status_code == 200


def test_an_investment_too_large_to_multiply_measures_no_award():
    """An award is measured against the declared investment; one of 9e999999 万元 overflowed (decimal.Overflow, 500)
    where the form's own check could not have run (a draft kept before it existed)."""
    assert funding.declared_investment({"total_investment_wan": "9e999999"}) is None
    assert funding.declared_investment({"total_investment_wan": "120"}) == Decimal(1_200_000)


# --- numbers in query strings -------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["page=" + "9" * 5000, "per_page=" + "9" * 5000], ids=["page", "per_page"])
def test_a_page_number_of_5000_digits_is_422_on_the_api(client, cast, query):
    answer = client.get(f"/api/v1/applications?{query}", headers=bearer(client, cast.applicant))
    assert [e["field"] for e in problem(answer, 422, "invalid_input")["errors"]] == [query.partition("=")[0]]


def test_a_revision_number_of_5000_digits_is_422(client, cast):
    app_id = factories.new_application(cast)
    answer = client.get(
        f"/api/v1/applications/{app_id}/changes?since={'9' * 5000}", headers=bearer(client, cast.applicant)
    )
    assert [e["field"] for e in problem(answer, 422, "invalid_input")["errors"]] == ["since"]


def test_page_numbers_no_database_takes_are_bounded(app, client, cast):
    """/applications?page=10**20 made an OFFSET PostgreSQL refuses (500); /desk?page=<5,000 digits> raised (500)."""
    factories.new_application(cast)
    applicant = log_in(app, cast.applicant)
    assert applicant.get("/applications?page=" + "9" * 20).status_code == 200
    desk = log_in(app, cast.district_reviewer)
    assert desk.get("/desk?page=" + "9" * 5000).status_code == 200  # the page falls back to page 1, as for "x"
    answer = client.get("/api/v1/desk?page=" + "9" * 5000, headers=bearer(client, cast.district_reviewer))
    assert [e["field"] for e in problem(answer, 422, "invalid_input")["errors"]] == ["page"]


def test_an_id_beyond_the_id_columns_range_is_404_on_pages_and_the_api(app, client, cast):
    """/applications/10**30 on a page was a 500 on PostgreSQL (the API already answered 404 for applications)."""
    app_id = factories.new_application(cast)
    browser = log_in(app, cast.applicant)
    for url in (
        f"/applications/{10**30}",
        f"/applications/{10**30}/form",
        f"/applications/{app_id}/revisions/{10**30}",
    ):
        assert browser.get(url).status_code == 404, url
    answer = client.get(f"/api/v1/checklist-photos/{10**30}", headers=bearer(client, cast.applicant))
    problem(answer, 404, "not_found")


@pytest.mark.parametrize(
    ("amount", "field", "code"),
    [("1e309", "payload.amount", "not_finite"), ('"1e309"', "amount", "above_rule"), ('"351000.01"', "amount",
     "above_rule")],
    ids=["number-1e309", "text-1e309", "a-fen-above-the-rule"],
)  # fmt: skip
def test_an_award_of_1e309_is_refused_through_the_api(client, cast, amount, field, code):
    """The probe: an award of 1e309 passed and could be approved. The sample form's eligible investment is
    175.50 万元; the rule (20 %, a local setting) gives 351,000 yuan."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "funding_review")
    body = '{"trigger": "propose_award", "payload": {"amount": ' + amount + "}}"
    answer = client.open(
        f"/api/v1/applications/{app_id}/transitions",
        method="POST",
        data=body,
        headers={**bearer(client, cast.finance_officer), "Content-Type": "application/json"},
    )
    status, kind = (422, "invalid_input") if code == "not_finite" else (422, "guard_failed")
    assert [(e["field"], e["code"]) for e in problem(answer, status, kind)["errors"]] == [(field, code)]
    assert factories.state_of(app_id)[0] == "funding_review"
