"""Each expert's own sheet: results saved, stale syncs caught as conflicts, photos kept once, signed and final."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from review import photos, scoring
from review.models import ChecklistAnswer, ChecklistPhoto, ChecklistSheet
from tests import factories
from tests.support.audit import events_of
from workflow import operations
from workflow.db import db
from workflow.errors import InvalidInput, NotAllowedNow, NotFound
from workflow.models import AuditEvent

JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
ENTERPRISE_CRITERIA = [
    "1.1",
    "2.1",
    "2.2",
    "3.1",
    "3.2",
    "3.3",
    "3.4",
    "4.1",
    "4.2",
    "4.3",
    "4.4",
    "5.1",
    "5.2",
    "5.3",
    "6.1",
    "6.2",
    "6.3",
]


@pytest.fixture
def verifying(cast) -> int:
    """An enterprise's application in site verification on the visit's day, cast.expert leading the panel."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    factories.ensure_leader(cast, app_id)
    factories.visit_day_arrives(app_id)
    return app_id


def _codes(error: InvalidInput) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in error.problems}


def _criterion(sheet: dict, criterion_id: str) -> dict:
    return next(c for cat in sheet["categories"] for c in cat["criteria"] if c["id"] == criterion_id)


def _all(result: str = "conform") -> list[dict]:
    return [{"criterion": c, "result": result} for c in ENTERPRISE_CRITERIA]


def _submit(expert, app_id: int, signature: bytes = factories.SIGNATURE_PNG, name: str = "张工", confirm=True):
    return scoring.submit_sheet(expert, app_id, signature, name, confirm, factories.blob_store())


# --- the sheet ------------------------------------------------------------------------------------------------


def test_the_sheet_lists_the_enterprise_criteria_without_2_3_and_looking_writes_nothing(cast, verifying):
    sheet = scoring.view_sheet(cast.expert, verifying)
    assert [c["id"] for cat in sheet["categories"] for c in cat["criteria"]] == ENTERPRISE_CRITERIA
    assert sheet["checklist"]["annex"] == "附表1"
    assert sheet["missing"] == ENTERPRISE_CRITERIA and sheet["complete"] is False
    assert sheet["leader"] is True and sheet["submitted_at"] is None
    assert _criterion(sheet, "1.1") | {"photos": []} == _criterion(sheet, "1.1")
    assert (_criterion(sheet, "1.1")["result"], _criterion(sheet, "1.1")["revision"]) == (None, 0)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ChecklistSheet)) == 0


def test_english_titles_on_request(cast, verifying):
    sheet = scoring.view_sheet(cast.expert, verifying, "en")
    assert sheet["categories"][0]["title"] == "1. Policy compliance"
    assert scoring.view_sheet(cast.expert, verifying)["categories"][0]["title"] == "1、政策符合性"


def test_only_a_declared_member_of_the_panel_has_a_sheet(cast, verifying):
    for outsider in (cast.expert2, cast.district_reviewer, cast.municipal_reviewer, cast.applicant):
        with pytest.raises(NotFound):
            scoring.view_sheet(outsider, verifying)
    operations.assign(cast.agency_coordinator, verifying, cast.expert2.id)
    with pytest.raises(NotFound):  # assigned, not yet declared
        scoring.save_answers(cast.expert2, verifying, [{"criterion": "1.1", "result": "conform"}])
    factories.declare_clear(verifying, cast.expert2.id)
    outcome, _sheet = scoring.save_answers(cast.expert2, verifying, [{"criterion": "1.1", "result": "conform"}])
    assert outcome.saved == ["1.1"]


# --- saving ---------------------------------------------------------------------------------------------------


def test_save_records_result_score_and_note_and_raises_the_revision(cast, verifying):
    outcome, sheet = scoring.save_answers(
        cast.expert,
        verifying,
        [
            {"criterion": "2.2", "result": "nonconform", "score": "3.5", "note": " 三级表具接入率 72% "},
            {"criterion": "1.1", "result": "conform"},
        ],
    )
    assert (outcome.saved, outcome.unchanged, outcome.conflicts) == (["2.2", "1.1"], [], [])
    saved = _criterion(sheet, "2.2")
    assert (saved["result"], saved["score"], saved["note"], saved["revision"]) == (
        "nonconform",
        "3.50",
        "三级表具接入率 72%",
        1,
    )
    assert "2.2" not in sheet["missing"] and "2.1" in sheet["missing"]

    _outcome, sheet = scoring.save_answers(cast.expert, verifying, [{"criterion": "2.2", "result": "conform"}])
    assert (_criterion(sheet, "2.2")["result"], _criterion(sheet, "2.2")["revision"]) == ("conform", 2)
    _outcome, sheet = scoring.save_answers(cast.expert, verifying, [{"criterion": "2.2", "result": None}])
    assert _criterion(sheet, "2.2")["result"] is None and "2.2" in sheet["missing"]
    scored = events_of(verifying, "scored")
    assert len(scored) == 3
    assert scored[0].payload["criteria"] == {"2.2": "nonconform", "1.1": "conform"}


def test_a_change_from_a_stale_revision_is_a_conflict_and_overwrites_nothing(cast, verifying):
    # The tablet read revision 1; meanwhile the laptop changed the answer to revision 2.
    scoring.save_answers(cast.expert, verifying, [{"criterion": "3.2", "result": "conform", "note": "平板"}])
    scoring.save_answers(
        cast.expert, verifying, [{"criterion": "3.2", "result": "nonconform", "note": "笔记本", "base_revision": 1}]
    )
    outcome, sheet = scoring.save_answers(
        cast.expert,
        verifying,
        [
            {"criterion": "3.2", "result": "conform", "note": "离线修改", "base_revision": 1},
            {"criterion": "3.3", "result": "conform", "base_revision": 0},
        ],
    )
    assert outcome.saved == ["3.3"]
    assert [c["criterion"] for c in outcome.conflicts] == ["3.2"]
    conflict = outcome.conflicts[0]
    assert conflict["yours"] == {"result": "conform", "score": None, "note": "离线修改", "base_revision": 1}
    assert (conflict["theirs"]["result"], conflict["theirs"]["note"], conflict["theirs"]["revision"]) == (
        "nonconform",
        "笔记本",
        2,
    )
    kept = _criterion(sheet, "3.2")
    assert (kept["result"], kept["note"], kept["revision"]) == ("nonconform", "笔记本", 2)

    # Settled: sent again from the server's revision, it is saved.
    outcome, sheet = scoring.save_answers(
        cast.expert,
        verifying,
        [{"criterion": "3.2", "result": "conform", "note": "离线修改", "base_revision": 2}],
    )
    assert outcome.saved == ["3.2"] and _criterion(sheet, "3.2")["revision"] == 3


def test_the_same_values_from_a_stale_revision_are_unchanged_not_a_conflict(cast, verifying):
    scoring.save_answers(cast.expert, verifying, [{"criterion": "4.1", "result": "conform", "note": "报表齐全"}])
    scoring.save_answers(cast.expert, verifying, [{"criterion": "4.1", "result": "nonconform", "note": "缺单耗表"}])
    outcome, sheet = scoring.save_answers(
        cast.expert, verifying, [{"criterion": "4.1", "result": "nonconform", "note": "缺单耗表", "base_revision": 1}]
    )
    assert (outcome.saved, outcome.unchanged, outcome.conflicts) == ([], ["4.1"], [])
    assert _criterion(sheet, "4.1")["revision"] == 2


def test_the_device_time_of_a_change_is_kept(cast, verifying):
    _outcome, sheet = scoring.save_answers(
        cast.expert, verifying, [{"criterion": "5.1", "result": "conform", "changed_at": "2026-03-02T09:15:00+08:00"}]
    )
    assert dt.datetime.fromisoformat(_criterion(sheet, "5.1")["changed_at"]) == dt.datetime(
        2026, 3, 2, 1, 15, tzinfo=dt.UTC
    )


def test_invalid_results_are_refused_each_named_and_nothing_saved(cast, verifying):
    with pytest.raises(InvalidInput) as refused:
        scoring.save_answers(
            cast.expert,
            verifying,
            [
                {"criterion": "2.3", "result": "conform"},  # data centres only
                {"criterion": "1.1", "result": "yes"},
                {"criterion": "3.1", "result": ["conform"]},
                {"criterion": "3.2", "result": "conform", "score": "1.005"},
                {"criterion": "3.3", "resutl": "conform"},
                {"criterion": "3.4", "result": "conform", "base_revision": -1},
                {"criterion": "4.1", "result": "conform", "changed_at": "yesterday"},
                {"criterion": "1.1", "result": "conform"},
                "4.2",
            ],
        )
    assert _codes(refused.value) == {
        ("results[0].criterion", "unknown_criterion"),
        ("results[1].result", "invalid_result"),
        ("results[2].result", "invalid_result"),
        ("results[3].score", "invalid_score"),
        ("results[4].resutl", "unknown_field"),
        ("results[5].base_revision", "invalid"),
        ("results[6].changed_at", "invalid_time"),
        ("results[7].criterion", "duplicate"),
        ("results[8]", "invalid"),
    }
    with pytest.raises(InvalidInput):
        scoring.save_answers(cast.expert, verifying, [])
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ChecklistAnswer)) == 0


def test_scoring_only_in_site_verification(cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "completeness_check")
    factories.ensure_leader(cast, app_id)
    assert scoring.view_sheet(cast.expert, app_id)["missing"] == ENTERPRISE_CRITERIA  # may read ahead
    with pytest.raises(NotAllowedNow):
        scoring.save_answers(cast.expert, app_id, [{"criterion": "1.1", "result": "conform"}])


# --- submitting -----------------------------------------------------------------------------------------------


def test_submit_names_every_criterion_without_a_result(cast, verifying):
    scoring.save_answers(cast.expert, verifying, _all()[:-2])
    with pytest.raises(InvalidInput) as refused:
        _submit(cast.expert, verifying)
    assert _codes(refused.value) == {("results.6.2", "no_result"), ("results.6.3", "no_result")}
    assert scoring.view_sheet(cast.expert, verifying)["submitted_at"] is None


def test_submit_needs_a_png_signature_a_name_and_the_confirmation(cast, verifying):
    scoring.save_answers(cast.expert, verifying, _all())
    with pytest.raises(InvalidInput) as unsigned:
        _submit(cast.expert, verifying, signature=b"", name="  ", confirm=False)
    assert _codes(unsigned.value) == {
        ("signature", "required"),
        ("signed_name", "required"),
        ("confirm", "required"),
    }
    with pytest.raises(InvalidInput) as not_png:
        _submit(cast.expert, verifying, signature=JPEG_BYTES)
    assert _codes(not_png.value) == {("signature", "type_not_allowed")}
    with pytest.raises(InvalidInput) as truthy:
        _submit(cast.expert, verifying, confirm="yes")
    assert _codes(truthy.value) == {("confirm", "required")}
    assert scoring.view_sheet(cast.expert, verifying)["submitted_at"] is None


def test_a_submitted_sheet_is_signed_and_final(cast, verifying):
    scoring.save_answers(cast.expert, verifying, _all())
    sheet = _submit(cast.expert, verifying, name=" 张工 ")
    assert sheet["submitted_at"] is not None and sheet["signed_name"] == "张工" and sheet["complete"] is True
    with db.transaction() as session:
        row = session.scalars(select(ChecklistSheet).where(ChecklistSheet.application_id == verifying)).one()
        assert row.signature_key is not None
        stored = b"".join(factories.blob_store().open(row.signature_key))
    assert stored == factories.SIGNATURE_PNG

    with pytest.raises(scoring.SheetSubmitted):
        scoring.save_answers(cast.expert, verifying, [{"criterion": "1.1", "result": "nonconform"}])
    with pytest.raises(scoring.SheetSubmitted):
        _submit(cast.expert, verifying)
    with pytest.raises(scoring.SheetSubmitted):
        photos.add_photo(cast.expert, verifying, "1.1", JPEG_BYTES, factories.blob_store(), client_id="after-signing")
    assert _criterion(scoring.view_sheet(cast.expert, verifying), "1.1")["result"] == "conform"


# --- photos ---------------------------------------------------------------------------------------------------


def test_a_photo_is_kept_once_per_client_id(cast, verifying):
    store = factories.blob_store()
    taken = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    first, created = photos.keep_photo(
        cast.expert,
        verifying,
        "2.2",
        JPEG_BYTES,
        store,
        client_id="IMG_0001",
        taken_at=taken,
        latitude=31.23,
        longitude=121.47,
        accuracy_m=8.0,
    )
    again, created_again = photos.keep_photo(cast.expert, verifying, "2.2", JPEG_BYTES, store, client_id="IMG_0001")
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert photos.add_photo(cast.expert, verifying, "2.2", JPEG_BYTES, store, client_id="IMG_0001").id == first.id
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ChecklistPhoto)) == 1
        added = session.scalars(
            select(AuditEvent).where(AuditEvent.application_id == verifying, AuditEvent.outcome == "photo_added")
        ).all()
    assert len(added) == 1
    kept = _criterion(scoring.view_sheet(cast.expert, verifying), "2.2")["photos"]
    assert [(p["client_id"], p["content_type"], p["latitude"]) for p in kept] == [("IMG_0001", "image/jpeg", 31.23)]
    assert dt.datetime.fromisoformat(kept[0]["taken_at"]) == taken
    assert b"".join(store.open(first.blob_key)) == JPEG_BYTES


def test_a_client_id_that_names_another_photo_is_refused(cast, verifying):
    store = factories.blob_store()
    photos.add_photo(cast.expert, verifying, "2.2", JPEG_BYTES, store, client_id="IMG_0002")
    with pytest.raises(InvalidInput) as other_bytes:
        photos.add_photo(cast.expert, verifying, "2.2", factories.SIGNATURE_PNG, store, client_id="IMG_0002")
    assert _codes(other_bytes.value) == {("client_id", "client_id_reused")}
    with pytest.raises(InvalidInput) as other_criterion:
        photos.add_photo(cast.expert, verifying, "3.1", JPEG_BYTES, store, client_id="IMG_0002")
    assert _codes(other_criterion.value) == {("client_id", "client_id_reused")}


def test_a_photo_must_be_an_image_of_a_criterion_here(cast, verifying):
    store = factories.blob_store()
    with pytest.raises(InvalidInput) as pdf:
        photos.add_photo(cast.expert, verifying, "2.2", factories.SAMPLE_PDF, store, client_id="doc")
    assert _codes(pdf.value) == {("photo", "type_not_allowed")}
    with pytest.raises(InvalidInput) as criterion:
        photos.add_photo(cast.expert, verifying, "2.3", JPEG_BYTES, store, client_id="dc")
    assert _codes(criterion.value) == {("criterion", "unknown_criterion")}
    with pytest.raises(InvalidInput) as where:
        photos.add_photo(cast.expert, verifying, "2.2", JPEG_BYTES, store, client_id="", latitude=91.0)
    assert _codes(where.value) == {
        ("client_id", "required"),
        ("latitude", "out_of_range"),
        ("longitude", "incomplete"),
    }
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ChecklistPhoto)) == 0


def test_photos_of_another_expert_open_to_a_member_only_after_their_own_sheet(cast, verifying):
    operations.assign(cast.agency_coordinator, verifying, cast.expert2.id)
    factories.declare_clear(verifying, cast.expert2.id)
    photo = photos.add_photo(cast.expert, verifying, "2.2", JPEG_BYTES, factories.blob_store(), client_id="p1")
    with db.transaction() as session:
        assert photos.photo_for_download(session, cast.expert, photo.id).id == photo.id
        assert photos.photo_for_download(session, cast.municipal_reviewer, photo.id).id == photo.id
        for barred in (cast.expert2, cast.applicant, cast.district_reviewer, cast.finance_officer):
            with pytest.raises(NotFound):
                photos.photo_for_download(session, barred, photo.id)
    factories.score_sheet(cast.expert2, verifying)
    with db.transaction() as session:
        assert photos.photo_for_download(session, cast.expert2, photo.id).id == photo.id


def test_the_weighted_score_sums_score_times_weight_of_the_scored_criteria():
    from review import checklists
    from review.models import ChecklistAnswer

    weights = {"1.1": 2.0, "2.1": 0.5}  # weights come from the checklist's data; set two here
    park = checklists.load("emc-checklist-park@1")
    weighted = dataclasses.replace(
        park,
        categories=tuple(
            dataclasses.replace(
                cat, criteria=tuple(dataclasses.replace(c, weight=weights.get(c.id, c.weight)) for c in cat.criteria)
            )
            for cat in park.categories
        ),
    )
    answers = {
        "1.1": ChecklistAnswer(criterion="1.1", result="conform", score=Decimal("8.5")),
        "2.1": ChecklistAnswer(criterion="2.1", result="conform", score=Decimal("10")),
        "3.1": ChecklistAnswer(criterion="3.1", result="conform", score=None),
    }
    assert scoring.weighted_score(weighted, "park", answers) == "22.00"  # 8.5 × 2 + 10 × 0.5
    assert scoring.weighted_score(weighted, "park", {"3.1": answers["3.1"]}) is None


# --- the scale and 不适用 (issue 9) ------------------------------------------------------------------------------


@pytest.mark.parametrize("score,ok", [("10", True), ("10.00", True), ("10.01", False), ("120", False)])
def test_a_score_lies_on_the_criterions_scale(cast, verifying, score, ok):
    """The @2 tables score 0–10 (a local setting); 120 was once accepted."""
    item = [{"criterion": "2.1", "result": "conform", "score": score}]
    if ok:
        scoring.save_answers(cast.expert, verifying, item)
        assert _criterion(scoring.view_sheet(cast.expert, verifying), "2.1")["max_score"] == 10
        return
    with pytest.raises(InvalidInput) as refused:
        scoring.save_answers(cast.expert, verifying, item)
    assert _codes(refused.value) == {("results[0].score", "above_maximum")}
    assert "0–10" in refused.value.detail


def test_not_applicable_only_where_the_table_allows_it(cast, verifying):
    """The access ratios (2.2) may never be 不适用; an effect of category 6 may."""
    with pytest.raises(InvalidInput) as refused:
        scoring.save_answers(cast.expert, verifying, [{"criterion": "2.2", "result": "not_applicable"}])
    assert _codes(refused.value) == {("results[0].result", "not_applicable_not_allowed")}
    assert "第2.2项不能记为“不适用”" in refused.value.detail
    scoring.save_answers(cast.expert, verifying, [{"criterion": "6.3", "result": "not_applicable"}])


def test_a_sheet_holding_a_forbidden_not_applicable_is_not_signed(cast, verifying):
    """An answer kept from before the rule (written straight to the table here) blocks the signature."""
    scoring.save_answers(cast.expert, verifying, _all())
    with db.transaction() as session:
        sheet = session.scalars(select(ChecklistSheet).where(ChecklistSheet.application_id == verifying)).one()
        answer = session.scalars(
            select(ChecklistAnswer).where(ChecklistAnswer.sheet_id == sheet.id, ChecklistAnswer.criterion == "3.2")
        ).one()
        answer.result = "not_applicable"
    with pytest.raises(InvalidInput) as refused:
        _submit(cast.expert, verifying)
    assert ("results.3.2", "not_applicable_not_allowed") in _codes(refused.value)
