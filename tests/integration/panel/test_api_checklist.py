"""The checklist API end to end: each expert's sheet, photos, signature, the consensus and the leader's conclusion."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest

from review import photos
from tests import factories
from tests.support.api import bearer, problem
from tests.support.openapi import Conformance
from workflow import operations

PREFIX = "/api/v1"
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
SIGNATURE = base64.b64encode(factories.SIGNATURE_PNG).decode()
ENTERPRISE = ["1.1", "2.1", "2.2", "3.1", "3.2", "3.3", "3.4", "4.1", "4.2", "4.3", "4.4", "5.1", "5.2", "5.3"]
ENTERPRISE += ["6.1", "6.2", "6.3"]
PARK = ["1.1", "2.1", "3.1", "3.2", "3.3", "3.4", "4.1", "4.2", "4.3", "4.4", "5.1", "5.2", "6.1", "6.2", "6.3", "6.4"]

CHECKLIST = "/applications/{application_id}/checklist"
PHOTOS = "/applications/{application_id}/checklist/photos"
SUBMIT = "/applications/{application_id}/checklist/submit"
CONSENSUS = "/applications/{application_id}/consensus"
PHOTO = "/checklist-photos/{photo_id}"
FIRE = "/applications/{application_id}/transitions"


@pytest.fixture
def conform(client) -> Conformance:  # type: ignore[no-untyped-def]
    return Conformance(json.loads(client.get(f"{PREFIX}/openapi.json").get_data(as_text=True)))


def _url(app_id: int, tail: str = "") -> str:
    return f"{PREFIX}/applications/{app_id}/{tail}".rstrip("/")


def _panel(cast: factories.Cast, kind: str) -> int:
    """An application of `kind` in site verification: cast.expert leads, cast.expert2 sits, both declared clear."""
    app_id = factories.new_application(cast, kind=kind)
    factories.drive_to(cast, app_id, "site_verification")
    factories.ensure_leader(cast, app_id)
    operations.assign(cast.agency_coordinator, app_id, cast.expert2.id)
    factories.declare_clear(app_id, cast.expert2.id)
    factories.visit_day_arrives(app_id)
    return app_id


STEPS = {
    "presentation": "申报单位汇报建设投资、系统架构并现场演示平台",
    "inspection": "查看关口表计量点位，抽查断数记录",
}


def _note_steps(client: Any, headers: dict[str, str], app_id: int) -> Any:
    """The leader notes both steps of the visit (汇报与现场演示, 勘察提问), as conclude needs."""
    noted = client.put(_url(app_id, "visit/steps"), json=STEPS, headers=headers)
    assert noted.status_code == 200, noted.get_json()
    return noted


def _ids(sheet: dict[str, Any]) -> list[str]:
    return [c["id"] for cat in sheet["categories"] for c in cat["criteria"]]


def _criterion(sheet: dict[str, Any], criterion_id: str) -> dict[str, Any]:
    return next(c for cat in sheet["categories"] for c in cat["criteria"] if c["id"] == criterion_id)


def _errors(body: dict[str, Any]) -> set[tuple[str, str]]:
    """The (field, code) of each error in a problem document."""
    return {(e["field"], e["code"]) for e in body["errors"]}


def _score_all(client, headers, app_id: int, criteria: list[str], overrides: dict[str, str] | None = None) -> Any:
    results = [{"criterion": c, "result": (overrides or {}).get(c, "conform")} for c in criteria]
    response = client.put(_url(app_id, "checklist"), json={"results": results}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response


def _sign(client, headers, app_id: int, name: str = "张工") -> Any:
    body = {"signature_png_base64": SIGNATURE, "signed_name": name, "confirm": True}
    return client.post(_url(app_id, "checklist/submit"), json=body, headers=headers)


def _photo(client, headers, app_id: int, data: bytes = JPEG_BYTES, **fields: str) -> Any:
    form = {"criterion": "2.1", "client_id": "IMG_0001", **fields, "photo": (io.BytesIO(data), "IMG_0001.jpg")}
    return client.post(_url(app_id, "checklist/photos"), data=form, headers=headers, content_type="multipart/form-data")


# --- an enterprise, end to end ------------------------------------------------------------------------------


def test_enterprise_sheets_photos_signatures_consensus_and_conclusion(client, cast, conform):
    app_id = _panel(cast, "enterprise")
    leader, member = bearer(client, cast.expert), bearer(client, cast.expert2)

    # The sheet: 附表1 without the data-centre criterion 2.3.
    got = client.get(_url(app_id, "checklist"), headers=leader)
    conform.check(got, CHECKLIST, "get")
    sheet = got.get_json()
    assert _ids(sheet) == ENTERPRISE and sheet["checklist"]["annex"] == "附表1"
    assert sheet["leader"] is True and sheet["missing"] == ENTERPRISE
    assert client.get(_url(app_id, "checklist"), headers=member).get_json()["leader"] is False

    # Save, then a stale sync from a tablet comes back as a conflict with both values.
    saved = client.put(
        _url(app_id, "checklist"),
        json={"results": [{"criterion": "2.2", "result": "conform", "score": 8, "note": "接入率达标"}]},
        headers=leader,
    )
    conform.check(saved, CHECKLIST, "put")
    assert saved.get_json()["saved"] == ["2.2"]
    assert _criterion(saved.get_json()["sheet"], "2.2")["revision"] == 1
    client.put(
        _url(app_id, "checklist"),
        json={"results": [{"criterion": "2.2", "result": "nonconform", "note": "三级表具不足", "base_revision": 1}]},
        headers=leader,
    )
    stale = {"criterion": "2.2", "result": "conform", "note": "离线", "base_revision": 1}
    same = {"criterion": "2.2", "result": "nonconform", "note": "三级表具不足", "base_revision": 1}
    clash = client.put(_url(app_id, "checklist"), json={"results": [stale]}, headers=leader)
    conform.check(clash, CHECKLIST, "put")
    body = clash.get_json()
    assert (body["saved"], body["unchanged"]) == ([], [])
    assert body["conflicts"] == [
        {
            "criterion": "2.2",
            "yours": {"result": "conform", "score": None, "note": "离线", "base_revision": 1},
            "theirs": {**body["conflicts"][0]["theirs"], "result": "nonconform", "note": "三级表具不足", "revision": 2},
        }
    ]
    assert _criterion(body["sheet"], "2.2")["result"] == "nonconform"
    unchanged = client.put(_url(app_id, "checklist"), json={"results": [same]}, headers=leader).get_json()
    assert (unchanged["unchanged"], unchanged["conflicts"]) == (["2.2"], [])
    refused = client.put(
        _url(app_id, "checklist"), json={"results": [{"criterion": "2.3", "result": "maybe"}]}, headers=leader
    )
    conform.check(refused, CHECKLIST, "put")
    assert _errors(problem(refused, 422, "invalid_input")) == {
        ("results[0].criterion", "unknown_criterion"),
        ("results[0].result", "invalid_result"),
    }

    # A photo: 201, the same client_id again 200, a PDF refused; who may fetch it.
    taken = {"taken_at": "2026-03-02T10:00:00+08:00", "latitude": "31.2304", "longitude": "121.4737"}
    kept = _photo(client, leader, app_id, **taken, accuracy_m="12.5")
    conform.check(kept, PHOTOS, "post")
    assert kept.status_code == 201
    photo = kept.get_json()
    assert (photo["criterion"], photo["content_type"], photo["latitude"]) == ("2.1", "image/jpeg", 31.2304)
    assert photo["taken_at"].startswith("2026-03-02T02:00:00")
    again = _photo(client, leader, app_id)
    conform.check(again, PHOTOS, "post")
    assert (again.status_code, again.get_json()["id"]) == (200, photo["id"])
    pdf = _photo(client, leader, app_id, data=factories.SAMPLE_PDF, client_id="scan")
    conform.check(pdf, PHOTOS, "post")
    assert _errors(problem(pdf, 422, "invalid_input")) == {("photo", "type_not_allowed")}
    not_multipart = client.post(_url(app_id, "checklist/photos"), json={"criterion": "2.1"}, headers=leader)
    conform.check(not_multipart, PHOTOS, "post")
    problem(not_multipart, 415, "unsupported_media_type")
    bad_place = _photo(client, leader, app_id, client_id="x", latitude="north", taken_at="02/03/2026")
    assert _errors(problem(bad_place, 422, "invalid_input")) == {("latitude", "invalid"), ("taken_at", "invalid")}
    listed = _criterion(client.get(_url(app_id, "checklist"), headers=leader).get_json(), "2.1")["photos"]
    assert [p["id"] for p in listed] == [photo["id"]] and listed[0]["download_url"] == photo["download_url"]

    fetched = client.get(photo["download_url"], headers=leader)
    assert fetched.status_code == 200 and fetched.data == JPEG_BYTES
    assert fetched.mimetype == "image/jpeg"
    assert fetched.headers["Content-Disposition"].startswith("attachment")
    assert fetched.headers["X-Content-Type-Options"] == "nosniff"
    for reader in (cast.municipal_reviewer, cast.agency_coordinator, cast.auditor):
        assert client.get(photo["download_url"], headers=bearer(client, reader)).status_code == 200
    for barred in (cast.expert2, cast.applicant, cast.district_reviewer, cast.finance_officer):
        denied = client.get(photo["download_url"], headers=bearer(client, barred))
        conform.check(denied, PHOTO, "get")
        problem(denied, 404, "not_found")

    # Submit: 422 names every criterion without a result; then signed; then final.
    _score_all(client, leader, app_id, ENTERPRISE[:-3], {"2.2": "nonconform"})
    incomplete = _sign(client, leader, app_id)
    conform.check(incomplete, SUBMIT, "post")
    assert _errors(problem(incomplete, 422, "invalid_input")) == {
        ("results.6.1", "no_result"),
        ("results.6.2", "no_result"),
        ("results.6.3", "no_result"),
    }
    _score_all(client, leader, app_id, ENTERPRISE[-3:])
    unsigned = client.post(
        _url(app_id, "checklist/submit"),
        json={"signature_png_base64": base64.b64encode(JPEG_BYTES).decode(), "signed_name": "张工"},
        headers=leader,
    )
    assert _errors(problem(unsigned, 422, "invalid_input")) == {
        ("signature", "type_not_allowed"),
        ("confirm", "required"),
    }
    not_base64 = client.post(
        _url(app_id, "checklist/submit"),
        json={"signature_png_base64": "not base64!", "signed_name": "张工", "confirm": True},
        headers=leader,
    )
    assert _errors(problem(not_base64, 422, "invalid_input")) == {("signature_png_base64", "invalid_base64")}
    signed = _sign(client, leader, app_id)
    conform.check(signed, SUBMIT, "post")
    assert signed.status_code == 200
    assert signed.get_json()["submitted_at"] is not None and signed.get_json()["signed_name"] == "张工"
    twice = _sign(client, leader, app_id)
    conform.check(twice, SUBMIT, "post")
    problem(twice, 409, "sheet_submitted")
    late = client.put(_url(app_id, "checklist"), json={"results": [same]}, headers=leader)
    conform.check(late, CHECKLIST, "put")
    problem(late, 409, "sheet_submitted")

    # The member has not submitted: the others' results are withheld from them, not from the coordinator.
    _score_all(client, member, app_id, ENTERPRISE[:5])
    blind = client.get(_url(app_id, "consensus"), headers=member)
    conform.check(blind, CONSENSUS, "get")
    assert blind.get_json()["withheld"] is True
    assert {r["result"] for c in blind.get_json()["criteria"] for r in c["results"]} == {None}
    seen = client.get(_url(app_id, "consensus"), headers=bearer(client, cast.agency_coordinator))
    conform.check(seen, CONSENSUS, "get")
    split = next(c for c in seen.get_json()["criteria"] if c["criterion"] == "2.2")
    assert [r["result"] for r in split["results"]] == ["nonconform", None]
    assert split["results"][0]["photos"] == [] and seen.get_json()["complete"] is False

    # The leader notes both steps of the visit; they cannot conclude yet: 422 names the member's sheet and each
    # criterion still open.
    _note_steps(client, leader, app_id)
    conclude = {"trigger": "conclude_pass", "comment": "各项核查内容基本符合要求；2.2 存在异议"}
    early = client.post(_url(app_id, "transitions"), json=conclude, headers=leader)
    conform.check(early, FIRE, "post")
    who = cast.expert2.username
    assert _errors(problem(early, 422, "guard_failed")) == {(f"panel.{who}", "sheet_not_submitted")} | {
        (f"panel.{who}.{c}", "no_result") for c in ENTERPRISE[5:]
    }
    _score_all(client, member, app_id, ENTERPRISE[5:])
    still = client.post(_url(app_id, "transitions"), json=conclude, headers=leader)
    assert _errors(problem(still, 422, "guard_failed")) == {(f"panel.{who}", "sheet_not_submitted")}
    assert _sign(client, member, app_id, "李工").status_code == 200

    now_seen = client.get(_url(app_id, "consensus"), headers=member).get_json()
    assert now_seen["withheld"] is False and now_seen["complete"] is True
    assert now_seen["disagreements"] == ["2.2"]
    not_leader = client.post(_url(app_id, "transitions"), json=conclude, headers=member)
    conform.check(not_leader, FIRE, "post")
    problem(not_leader, 403, "forbidden")
    done = client.post(_url(app_id, "transitions"), json=conclude, headers=leader)
    conform.check(done, FIRE, "post")
    assert done.status_code == 200 and done.get_json()["state"] == "funding_review"

    # Finance reads the consensus that led here; the applicant does not.
    finance = client.get(_url(app_id, "consensus"), headers=bearer(client, cast.finance_officer))
    assert finance.status_code == 200 and finance.get_json()["overall"]["agreement"] == "disagree"
    applicant = client.get(_url(app_id, "consensus"), headers=bearer(client, cast.applicant))
    conform.check(applicant, CONSENSUS, "get")
    problem(applicant, 403, "forbidden")


def test_the_sheet_is_only_for_the_declared_panel(client, cast, conform):
    app_id = _panel(cast, "enterprise")
    stranger = factories.make_user("expert")
    outsiders = (stranger, cast.district_reviewer, cast.municipal_reviewer, cast.agency_coordinator, cast.applicant)
    for outsider in outsiders:
        headers = bearer(client, outsider)
        got = client.get(_url(app_id, "checklist"), headers=headers)
        conform.check(got, CHECKLIST, "get")
        problem(got, 404, "not_found")
        put = client.put(
            _url(app_id, "checklist"), json={"results": [{"criterion": "1.1", "result": "conform"}]}, headers=headers
        )
        problem(put, 404, "not_found")
        problem(_sign(client, headers, app_id), 404, "not_found")
        problem(_photo(client, headers, app_id), 404, "not_found")
    # An expert not on the panel does not see the consensus either; a district reviewer, who sees the file, does.
    problem(client.get(_url(app_id, "consensus"), headers=bearer(client, stranger)), 404, "not_found")
    assert client.get(_url(app_id, "consensus"), headers=bearer(client, cast.district_reviewer)).status_code == 200
    # Seated but not yet declared: still nothing.
    undeclared = factories.make_user("expert")
    operations.assign(cast.agency_coordinator, app_id, undeclared.id)
    problem(client.get(_url(app_id, "checklist"), headers=bearer(client, undeclared)), 404, "not_found")
    problem(client.get(f"{PREFIX}/checklist-photos/999999", headers=bearer(client, cast.expert)), 404, "not_found")


def test_english_titles_on_request(client, cast):
    app_id = _panel(cast, "enterprise")
    leader = bearer(client, cast.expert)
    english = client.get(_url(app_id, "checklist") + "?lang=en", headers=leader).get_json()
    assert english["categories"][0]["title"] == "1. Policy compliance"
    assert english["checklist"]["title"].startswith("Site verification checklist")
    by_header = client.get(_url(app_id, "checklist"), headers={**leader, "Accept-Language": "en"}).get_json()
    assert by_header["categories"][0]["title"] == "1. Policy compliance"
    chinese = client.get(_url(app_id, "checklist"), headers=leader).get_json()
    assert chinese["categories"][0]["title"] == "1、政策符合性"


# --- a data centre and a park -------------------------------------------------------------------------------


def test_a_data_centre_answers_2_3_as_well(client, cast, conform):
    app_id = _panel(cast, "data_centre")
    leader, member = bearer(client, cast.expert), bearer(client, cast.expert2)
    sheet = client.get(_url(app_id, "checklist"), headers=leader).get_json()
    criteria = [*ENTERPRISE[:3], "2.3", *ENTERPRISE[3:]]
    assert _ids(sheet) == criteria
    assert "数据中心能耗在线监测平台" in _criterion(sheet, "2.3")["text"]

    _score_all(client, leader, app_id, [c for c in criteria if c != "2.3"])
    missing = _sign(client, leader, app_id)
    assert _errors(problem(missing, 422, "invalid_input")) == {("results.2.3", "no_result")}
    _score_all(client, leader, app_id, ["2.3"])
    assert _sign(client, leader, app_id).status_code == 200
    _score_all(client, member, app_id, criteria, {"2.3": "nonconform"})
    assert _sign(client, member, app_id, "李工").status_code == 200

    report = client.get(_url(app_id, "consensus"), headers=bearer(client, cast.municipal_reviewer))
    conform.check(report, CONSENSUS, "get")
    assert report.get_json()["disagreements"] == ["2.3"]
    _note_steps(client, leader, app_id)
    done = client.post(
        _url(app_id, "transitions"), json={"trigger": "conclude_pass", "comment": "已接入监测平台"}, headers=leader
    )
    assert done.status_code == 200 and done.get_json()["state"] == "funding_review"


def test_a_park_is_verified_against_annex_2_and_can_fail(client, cast, conform):
    app_id = _panel(cast, "park")
    leader, member = bearer(client, cast.expert), bearer(client, cast.expert2)
    sheet = client.get(_url(app_id, "checklist"), headers=leader).get_json()
    assert sheet["checklist"]["annex"] == "附表2" and _ids(sheet) == PARK
    effects = sheet["categories"][-1]
    assert (effects["rule"], effects["preamble"]) == ("any", "能源管理中心建设前后可实现以下一种或多种效果：")

    _score_all(client, leader, app_id, PARK, {"1.1": "nonconform"})
    kept = _photo(client, leader, app_id, criterion="1.1", client_id="park-1")
    assert kept.status_code == 201
    _sign(client, leader, app_id)
    _score_all(client, member, app_id, PARK, {"1.1": "nonconform", "6.1": "nonconform"})
    _sign(client, member, app_id, "李工")

    report = client.get(_url(app_id, "consensus"), headers=member)
    conform.check(report, CONSENSUS, "get")
    body = report.get_json()
    coverage = next(c for c in body["criteria"] if c["criterion"] == "1.1")
    assert coverage["agreement"] == "agree" and coverage["results"][0]["photos"] == [kept.get_json()["id"]]
    assert body["disagreements"] == ["6.1"]
    assert [c["agreement"] for c in body["categories"] if c["category"] == "6"] == ["agree"]  # any one effect
    assert body["overall"] == {
        "agreement": "agree",
        "findings": [
            {"username": cast.expert.username, "finding": "nonconform", "weighted_score": None},
            {"username": cast.expert2.username, "finding": "nonconform", "weighted_score": None},
        ],
    }
    # The member, having submitted, may now fetch the leader's photo.
    assert client.get(f"{PREFIX}/checklist-photos/{kept.get_json()['id']}", headers=member).status_code == 200

    _note_steps(client, leader, app_id)
    failed = client.post(
        _url(app_id, "transitions"),
        json={"trigger": "conclude_fail", "comment": "纳入平台的重点企业不足50%"},
        headers=leader,
    )
    assert failed.status_code == 200 and failed.get_json()["state"] == "verification_failed"
    after = client.put(
        _url(app_id, "checklist"), json={"results": [{"criterion": "1.1", "result": "conform"}]}, headers=leader
    )
    problem(after, 409, "sheet_submitted")


def test_a_photo_over_the_limit_is_refused(client, cast, monkeypatch):
    app_id = _panel(cast, "enterprise")
    leader = bearer(client, cast.expert)
    monkeypatch.setattr(photos, "PHOTO_MAX_BYTES", 1024)
    over = _photo(client, leader, app_id, data=JPEG_BYTES + b"\x00" * 2048, client_id="big")
    assert _errors(problem(over, 422, "invalid_input")) == {("photo", "too_large")}
    # Far beyond it the body is refused before it is read.
    huge = _photo(client, leader, app_id, data=JPEG_BYTES + b"\x00" * (128 * 1024), client_id="huge")
    problem(huge, 413, "payload_too_large")
    assert _criterion(client.get(_url(app_id, "checklist"), headers=leader).get_json(), "2.1")["photos"] == []
