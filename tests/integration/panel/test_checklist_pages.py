"""The expert's checklist page and the JSON its script uses: who may open it, sync and conflicts, photos, signing."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

from flask import render_template

from review import scoring
from tests import factories
from tests.factories import on_site_visit_day as on_site
from tests.support.pages import csrf_app, log_in
from web.panel import checklist as checklist_pages
from workflow import operations
from workflow.db import db
from workflow.models import Application
from workflow.visibility import programme_definitions

PNG = factories.SIGNATURE_PNG


def criteria_of(cast: factories.Cast, app_id: int) -> list[str]:
    sheet = scoring.view_sheet(cast.expert, app_id)
    return [c["id"] for cat in sheet["categories"] for c in cat["criteria"]]


def answer_of(cast: factories.Cast, app_id: int, criterion: str) -> dict[str, Any]:
    sheet = scoring.view_sheet(cast.expert, app_id)
    return next(c for cat in sheet["categories"] for c in cat["criteria"] if c["id"] == criterion)


def sync(client: Any, app_id: int, results: list[dict[str, Any]], headers: dict[str, str] | None = None) -> Any:
    return client.post(f"/applications/{app_id}/checklist/sync", json={"results": results}, headers=headers or {})


# --- the page -------------------------------------------------------------------------------------------------


def test_only_a_declared_panel_expert_opens_the_checklist(app, cast):
    app_id = on_site(cast)
    operations.assign(cast.agency_coordinator, app_id, cast.expert2.id)  # on the panel, not yet declared
    for outsider in (cast.expert2, cast.district_reviewer, cast.municipal_reviewer, cast.applicant):
        client = log_in(app, outsider)
        assert client.get(f"/applications/{app_id}/checklist").status_code == 404, outsider.role
        refused = client.get(f"/applications/{app_id}/checklist.json")
        assert (refused.status_code, refused.json["code"]) == (404, "not_found")
        assert sync(client, app_id, [{"criterion": "1.1", "result": "conform"}]).status_code == 404

    page = log_in(app, cast.expert).get(f"/applications/{app_id}/checklist")
    assert page.status_code == 200
    html = page.text
    assert "附表1" in html and "上海市工业用能企业（数据中心）能源管理中心核查表" in html
    ids = criteria_of(cast, app_id)
    assert "2.3" not in ids  # a data-centre criterion is not on an enterprise's sheet
    # 不适用 is offered only where the checklist data allows it: the category-6 effects (一种或多种效果).
    for criterion in ids:
        assert f'data-criterion="{criterion}"' in html
        for result in ("conform", "nonconform"):
            assert f'name="result-{criterion}" value="{result}"' in html
        offered = f'name="result-{criterion}" value="not_applicable"' in html
        assert offered is criterion.startswith("6."), criterion
    assert html.count(">符合<") == len(ids) and html.count(">不适用<") == 3
    assert html.count('<span class="muted scale">0–10</span>') == len(ids)  # the scale beside every score
    assert html.count('accept="image/*" capture="environment"') == len(ids)
    assert "能源管理中心建设前后可实现以下一种或多种效果" in html  # the category's preamble
    assert "ACCESS_RATIO_T3" in html  # the meter-evidence slot names its checks
    assert 'id="signature-pad"' in html and 'id="confirm"' in html and 'id="submit-sheet"' in html
    assert f'<span id="progress-total">{len(ids)}</span>' in html
    # Same-origin script only; photos waiting on the device show as blob: thumbnails.
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "img-src 'self' data: blob:" in csp
    assert "<script>" not in html and 'style="' not in html


def test_the_checklist_in_english(app, cast):
    app_id = on_site(cast)
    html = log_in(app, cast.expert, lang="en").get(f"/applications/{app_id}/checklist").text
    assert "Does not conform" in html and "Not applicable" in html
    assert "Site verification checklist: industrial enterprise" in html
    assert ">不符合<" not in html


def test_outside_site_verification_the_checklist_is_read_only(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "completeness_check")
    factories.ensure_leader(cast, app_id)
    client = log_in(app, cast.expert)
    page = client.get(f"/applications/{app_id}/checklist")
    assert page.status_code == 200
    assert 'data-read-only="true"' in page.text and 'id="not-open-note"' in page.text
    refused = sync(client, app_id, [{"criterion": "1.1", "result": "conform"}])
    assert (refused.status_code, refused.json["code"]) == (409, "not_allowed_in_state")


def test_the_service_worker_is_served_for_the_whole_site(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert re.search(r'var VERSION = "v\d+";', response.text)


# --- sync -----------------------------------------------------------------------------------------------------


def test_sync_saves_and_a_change_from_an_older_revision_comes_back_as_a_conflict(app, cast):
    app_id = on_site(cast)
    client = log_in(app, cast.expert)
    first = sync(
        client,
        app_id,
        [
            {"criterion": "1.1", "result": "conform", "base_revision": 0, "changed_at": "2026-03-02T09:15:00Z"},
            {"criterion": "2.1", "result": "nonconform", "score": "2.5", "note": "二级表具缺 3 块", "base_revision": 0},
        ],
    )
    assert first.status_code == 200, first.json
    assert sorted(first.json["saved"]) == ["1.1", "2.1"] and first.json["conflicts"] == []
    saved = answer_of(cast, app_id, "2.1")
    assert (saved["result"], saved["score"], saved["note"], saved["revision"]) == (
        "nonconform",
        "2.50",
        "二级表具缺 3 块",
        1,
    )
    assert answer_of(cast, app_id, "1.1")["changed_at"].startswith("2026-03-02T09:15")
    returned = {c["id"]: c for cat in first.json["sheet"]["categories"] for c in cat["criteria"]}
    assert returned["2.1"]["revision"] == 1

    # Another device changes 2.1 (revision 2) while this tablet, still at revision 1, changes it differently.
    scoring.save_answers(cast.expert, app_id, [{"criterion": "2.1", "result": "conform", "base_revision": 1}])
    second = sync(
        client,
        app_id,
        [
            {"criterion": "2.1", "result": "nonconform", "base_revision": 1},
            {"criterion": "1.1", "result": "conform", "base_revision": 1},
        ],
    )
    assert second.status_code == 200
    assert second.json["saved"] == [] and second.json["unchanged"] == ["1.1"]
    [conflict] = second.json["conflicts"]
    assert conflict["criterion"] == "2.1"
    assert conflict["yours"]["result"] == "nonconform"
    assert (conflict["theirs"]["result"], conflict["theirs"]["revision"]) == ("conform", 2)
    assert answer_of(cast, app_id, "2.1")["result"] == "conform"  # nothing overwritten

    # Keeping theirs-or-mine is the expert's choice: mine again, now on top of revision 2.
    kept = sync(client, app_id, [{"criterion": "2.1", "result": "nonconform", "base_revision": 2}])
    assert kept.json["saved"] == ["2.1"]
    assert (answer_of(cast, app_id, "2.1")["result"], answer_of(cast, app_id, "2.1")["revision"]) == (
        "nonconform",
        3,
    )


def test_sync_refusals_answer_json(app, cast):
    app_id = on_site(cast)
    client = log_in(app, cast.expert)
    bad = sync(
        client,
        app_id,
        [
            {"criterion": "1.1", "result": "conform"},
            {"criterion": "3.1", "result": "maybe"},
            {"criterion": "9.9", "result": "conform"},
        ],
    )
    assert (bad.status_code, bad.json["code"]) == (422, "invalid_input")
    assert [(e["criterion"], e["code"]) for e in bad.json["errors"]] == [
        ("3.1", "invalid_result"),
        ("9.9", "unknown_criterion"),
    ]
    assert answer_of(cast, app_id, "1.1")["result"] is None  # all or nothing
    malformed = client.post(f"/applications/{app_id}/checklist/sync", data="results", content_type="text/plain")
    assert (malformed.status_code, malformed.json["code"]) == (400, "malformed_json")
    empty = sync(client, app_id, [])
    assert (empty.status_code, empty.json["errors"][0]["field"]) == (422, "results")

    anonymous = app.test_client()
    refused = sync(anonymous, app_id, [{"criterion": "1.1", "result": "conform"}])
    assert (refused.status_code, refused.json["code"]) == (401, "unauthorized")
    assert refused.json["login"] == "/login"
    assert anonymous.get(f"/applications/{app_id}/checklist").status_code == 302  # the page goes to the login


def test_the_sheet_json_carries_a_fresh_csrf_token(app, cast):
    app_id = on_site(cast)
    response = log_in(app, cast.expert).get(f"/applications/{app_id}/checklist.json")
    assert response.status_code == 200
    assert response.json["application_id"] == app_id and response.json["submitted_at"] is None
    assert response.headers["X-CSRFToken"]
    assert "no-store" in response.headers["Cache-Control"]  # kept offline by the service worker, never the HTTP cache


def test_csrf_is_enforced_on_sync_photos_and_submit_when_it_is_on(app, cast, monkeypatch):
    guarded = csrf_app(app, monkeypatch)
    app_id = on_site(cast)
    client = guarded.test_client()
    login = client.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login.text)
    assert token is not None
    credentials = {"username": cast.expert.username, "password": factories.PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=credentials).status_code == 303
    page = client.get(f"/applications/{app_id}/checklist")
    found = re.search(r'data-csrf-token="([^"]+)"', page.text)
    assert found is not None
    change = [{"criterion": "1.1", "result": "conform", "base_revision": 0}]

    for headers in ({}, {"X-CSRFToken": "forged"}):
        refused = sync(client, app_id, change, headers)
        assert (refused.status_code, refused.json["code"]) == (400, "csrf")
        assert refused.json["errors"][0]["field"] == "csrf_token"
    photo = client.post(
        f"/applications/{app_id}/checklist/photos",
        data={"criterion": "1.1", "client_id": "c1", "photo": (io.BytesIO(PNG), "p.png")},
        headers={"X-CSRFToken": "forged"},
    )
    assert (photo.status_code, photo.json["code"]) == (400, "csrf")
    submit = client.post(f"/applications/{app_id}/checklist/submit", json={"signed_name": "x", "confirm": True})
    assert (submit.status_code, submit.json["code"]) == (400, "csrf")
    assert answer_of(cast, app_id, "1.1")["result"] is None

    accepted = sync(client, app_id, change, {"X-CSRFToken": found.group(1)})
    assert accepted.status_code == 200 and accepted.json["saved"] == ["1.1"]


# --- photos ---------------------------------------------------------------------------------------------------


def post_photo(client: Any, app_id: int, data: bytes = PNG, **fields: str) -> Any:
    form: dict[str, Any] = {"criterion": "2.1", "client_id": "photo-1", **fields, "photo": (io.BytesIO(data), "p.png")}
    return client.post(f"/applications/{app_id}/checklist/photos", data=form)


def test_a_photo_is_kept_once_per_client_id_with_its_time_and_place(app, cast):
    app_id = on_site(cast)
    client = log_in(app, cast.expert)
    where = {"taken_at": "2026-03-02T09:20:00.000Z", "latitude": "31.2304", "longitude": "121.4737", "accuracy_m": "12"}
    first = post_photo(client, app_id, **where)
    assert first.status_code == 201, first.json
    assert (first.json["latitude"], first.json["accuracy_m"]) == (31.2304, 12.0)
    assert first.json["taken_at"].startswith("2026-03-02T09:20")
    again = post_photo(client, app_id, **where)  # the tablet lost the answer and sent it again
    assert again.json["id"] == first.json["id"]
    assert [p["client_id"] for p in answer_of(cast, app_id, "2.1")["photos"]] == ["photo-1"]

    shown = client.get(f"/applications/{app_id}/checklist/photos/{first.json['id']}")
    assert (shown.status_code, shown.mimetype, shown.data) == (200, "image/png", PNG)
    other = log_in(app, cast.district_reviewer)
    assert other.get(f"/applications/{app_id}/checklist/photos/{first.json['id']}").status_code == 404
    assert f'data-photo-id="{first.json["id"]}"' in client.get(f"/applications/{app_id}/checklist").text

    not_an_image = post_photo(client, app_id, data=factories.SAMPLE_PDF, client_id="photo-2")
    assert (not_an_image.status_code, not_an_image.json["errors"][0]["field"]) == (422, "photo")
    off_the_map = post_photo(client, app_id, client_id="photo-3", latitude="91", longitude="121")
    assert [e["field"] for e in off_the_map.json["errors"]] == ["latitude"], off_the_map.json
    not_a_number = post_photo(client, app_id, client_id="photo-4", latitude="31", longitude="east")
    assert [e["field"] for e in not_a_number.json["errors"]] == ["longitude"]
    assert len(answer_of(cast, app_id, "2.1")["photos"]) == 1


# --- signing --------------------------------------------------------------------------------------------------


def submit(client: Any, app_id: int, **body: Any) -> Any:
    payload = {"signature_png_base64": base64.b64encode(PNG).decode(), "signed_name": "王工", "confirm": True, **body}
    return client.post(f"/applications/{app_id}/checklist/submit", json=payload)


def test_submit_refuses_an_incomplete_sheet_then_signs_it(app, cast):
    app_id = on_site(cast)
    client = log_in(app, cast.expert)
    ids = criteria_of(cast, app_id)
    sync(client, app_id, [{"criterion": c, "result": "conform"} for c in ids[:-2]])

    refused = submit(client, app_id, signed_name=" ", confirm=False)
    assert refused.status_code == 422
    errors = refused.json["errors"]
    assert [e["criterion"] for e in errors if e["code"] == "no_result"] == ids[-2:]
    assert {e["field"] for e in errors} >= {"confirm", "signed_name"}
    no_signature = submit(client, app_id, signature_png_base64="")
    assert "signature" in {e["field"] for e in no_signature.json["errors"]}
    garbled = submit(client, app_id, signature_png_base64="not base64!")
    assert [e["field"] for e in garbled.json["errors"]] == ["signature"]

    sync(client, app_id, [{"criterion": c, "result": "not_applicable"} for c in ids[-2:]])
    signed = submit(client, app_id, signature_png_base64="data:image/png;base64," + base64.b64encode(PNG).decode())
    assert signed.status_code == 200, signed.json
    assert signed.json["submitted_at"] and signed.json["signed_name"] == "王工"
    assert scoring.view_sheet(cast.expert, app_id)["submitted_at"]

    again = submit(client, app_id)
    assert (again.status_code, again.json["code"]) == (409, "sheet_submitted")
    late = sync(client, app_id, [{"criterion": ids[0], "result": "nonconform", "base_revision": 1}])
    assert (late.status_code, late.json["code"]) == (409, "sheet_submitted")
    page = client.get(f"/applications/{app_id}/checklist").text
    assert 'id="submitted-note"' in page and 'data-read-only="true"' in page and "王工" in page


# --- the card on the application page -------------------------------------------------------------------------


def test_the_scoring_card_is_for_panel_experts_only(app, cast):
    app_id = on_site(cast)
    ids = criteria_of(cast, app_id)
    scoring.save_answers(cast.expert, app_id, [{"criterion": c, "result": "conform"} for c in ids[:3]])
    with app.test_request_context():
        application = db.session.get(Application, app_id)
        assert application is not None
        definition = programme_definitions(db.session)[application.programme_version_id]
        for other in (cast.expert2, cast.district_reviewer):
            assert checklist_pages.scoring_context(application, definition, other) is None
        card = checklist_pages.scoring_context(application, definition, cast.expert)
        assert card is not None
        assert (card["scored"], card["total"], card["open"]) == (3, len(ids), True)
        html = render_template("_scoring.html", scoring=card)
    assert f'href="/applications/{app_id}/checklist"' in html and "附表1" in html


def test_a_park_gets_its_own_table(app, cast):
    park = factories.make_org("park", cast.org.district)
    cast.applicant = cast.by_role["applicant"] = factories.make_user("applicant", organisation=park)
    cast.org = park
    app_id = factories.new_application(cast, kind="park")
    factories.drive_to(cast, app_id, "site_verification")
    factories.ensure_leader(cast, app_id)
    html = log_in(app, cast.expert).get(f"/applications/{app_id}/checklist").text
    assert "附表2" in html and "上海市园区能源管理中心核查表" in html and "PARK_COVERAGE" in html


def test_before_the_visits_day_the_sheet_waits_for_it_and_says_when(app, cast):
    """Site verification happens at the site: with no visit scheduled, or before its day (Beijing time), the page
    is read-only and says so, and a sync is refused naming the day; on the day it opens."""
    import datetime as dt

    from review import panels

    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    factories.ensure_leader(cast, app_id)
    client = log_in(app, cast.expert)
    page = client.get(f"/applications/{app_id}/checklist").text
    assert 'data-read-only="true"' in page and 'id="no-visit-note"' in page
    refused = sync(client, app_id, [{"criterion": "1.1", "result": "conform"}])
    assert (refused.status_code, refused.json["code"]) == (409, "before_visit_day")

    visit_at = dt.datetime.combine(dt.date.today() + dt.timedelta(days=3), dt.time(9, 30), panels.SHANGHAI)
    panels.schedule_visit(cast.agency_coordinator, app_id, visit_at, "剑川路1000号")
    day = visit_at.date().isoformat()
    page = client.get(f"/applications/{app_id}/checklist").text
    # Rendered editable with the day, so that a page kept offline opens itself on the day (the script decides).
    assert f'data-opens-on="{day}"' in page and f"现场核查定于 {day}（北京时间）" in page
    refused = sync(client, app_id, [{"criterion": "1.1", "result": "conform"}])
    assert (refused.status_code, refused.json["code"]) == (409, "before_visit_day")
    assert day in refused.json["detail"]

    factories.visit_day_arrives(app_id)
    assert sync(client, app_id, [{"criterion": "1.1", "result": "conform"}]).status_code == 200


def test_the_effects_show_what_the_applicant_claimed(app, cast):
    """Category 6 (一种或多种效果): beside each effect, the values form @2 holds for it."""
    app_id = on_site(cast)
    html = log_in(app, cast.expert).get(f"/applications/{app_id}/checklist").text
    effects = html[html.index('id="criterion-6.1"') :]
    assert "申报单位填报的效果" in effects
    assert "节能率（%）: <strong>6.20%</strong>" in effects
    assert "用能设备安全故障次数（建设前一年）: <strong>12</strong>" in effects
    before_effects = html[: html.index('id="criterion-6.1"')]
    assert "申报单位填报的效果" not in before_effects


def test_a_criterion_shows_its_number_once(app, cast):  # type: ignore[no-untyped-def]
    """Seed 002 附表1 numbers points within a part ("1、各类能源…"); beside the id 2.1 the page drops that "1、"."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    factories.ensure_leader(cast, app_id)
    page = log_in(app, cast.expert).get(f"/applications/{app_id}/checklist")
    assert page.status_code == 200
    assert '<span class="cid">2.1</span> 各类能源（电、气、热等）计量器具覆盖率符合GB17167-2006要求。' in page.text
    assert '<span class="cid">2.1</span> 1、' not in page.text
