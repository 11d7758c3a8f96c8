"""Revisions: each submission frozen as it stood; the diff between two; the reader's marker only moves forward."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from applications.attachments import required_categories
from applications.models import Attachment
from review import revisions
from review.models import Revision, RevisionRead
from tests import factories
from workflow import operations
from workflow.db import db
from workflow.engine import fire
from workflow.errors import GuardFailed, InvalidInput, NotFound
from workflow.models import AuditEvent
from workflow.visibility import get_visible


def _rows(application_id: int) -> list[Any]:
    with db.transaction() as session:
        return list(
            session.execute(
                Revision.__table__.select().where(Revision.application_id == application_id).order_by(Revision.number)
            )
        )


def _file(category: str, n: int, sha: str = "a", filename: str = "f.pdf") -> dict[str, Any]:
    return {"attachment_id": n, "category": category, "filename": filename, "sha256": sha * 64, "version": n}


def _revision(form: dict[str, Any], files: list[dict[str, Any]], number: int = 1) -> Revision:
    return Revision(application_id=1, number=number, trigger="submit", form=form, attachments=files)


# --- the diff (no database) ---------------------------------------------------------------------------------------


def test_changed_added_and_removed_fields_are_listed_and_equal_ones_are_not():
    old = _revision({"unit_name": "甲公司", "phone": "021-1234", "innovation": "群控"}, [])
    new = _revision({"unit_name": "甲公司", "phone": "021-5678", "address": "闵行区"}, [], 2)
    assert revisions.changes_between(old, new).form == [
        {"field": "address", "before": None, "after": "闵行区"},
        {"field": "innovation", "before": "群控", "after": None},
        {"field": "phone", "before": "021-1234", "after": "021-5678"},
    ]


def test_attachments_added_replaced_and_removed_by_category():
    old = _revision({}, [_file("business_licence", 1), _file("equipment_list", 2), _file("other", 3)])
    new = _revision(
        {},
        [_file("business_licence", 1), _file("equipment_list", 4, sha="b"), _file("supplement", 5)],
        2,
    )
    changes = revisions.changes_between(old, new).attachments
    assert [(c["category"], c["change"]) for c in changes] == [
        ("equipment_list", "replaced"),
        ("other", "removed"),
        ("supplement", "added"),
    ]
    replaced = changes[0]
    assert (replaced["before"]["attachment_id"], replaced["after"]["attachment_id"]) == (2, 4)
    assert changes[1]["after"] is None and changes[2]["before"] is None


def test_the_same_bytes_uploaded_again_are_no_change_but_a_new_name_is():
    old = _revision({}, [_file("equipment_list", 1)])
    same = _revision({}, [_file("equipment_list", 2)], 2)
    renamed = _revision({}, [_file("equipment_list", 3, filename="设备清单.pdf")], 3)
    assert not revisions.changes_between(old, same)
    assert [c["change"] for c in revisions.changes_between(same, renamed).attachments] == ["replaced"]


def test_against_nothing_everything_is_new():
    new = _revision({"unit_name": "甲公司"}, [_file("business_licence", 1)])
    changes = revisions.changes_between(None, new)
    assert changes.form == [{"field": "unit_name", "before": None, "after": "甲公司"}]
    assert [c["change"] for c in changes.attachments] == ["added"]


# --- the snapshot, written by the engine's effect -----------------------------------------------------------------


def test_submit_records_revision_1_with_the_form_and_the_current_attachments(cast):
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    (row,) = _rows(app_id)
    assert (row.number, row.trigger, row.created_by_id) == (1, "submit", cast.applicant.id)
    with db.transaction() as session:
        app = get_visible(session, cast.applicant, app_id)
        assert app is not None
        form = dict(app.form)
        required = required_categories(factories.newest_definition("emc-acceptance"), app.kind, form)
        current = session.scalars(
            select(Attachment).where(Attachment.application_id == app_id, Attachment.superseded_at.is_(None))
        ).all()
        seq = session.scalar(
            select(AuditEvent.seq).where(AuditEvent.application_id == app_id, AuditEvent.trigger == "submit")
        )
    assert row.form == form
    assert {a["category"] for a in row.attachments} == set(required)
    assert sorted((a["attachment_id"], a["sha256"], a["filename"], a["version"]) for a in row.attachments) == sorted(
        (a.id, a.sha256, a.filename, a.version) for a in current
    )
    assert row.supplement is None
    assert row.event_seq == seq


def test_resubmit_after_a_return_is_revision_2_with_the_corrections(cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "returned")
    _state, version = factories.state_of(app_id)
    operations.update_draft(cast.applicant, app_id, {"innovation": "空压站群控"}, version)
    factories.upload(factories.flask_app(), cast, app_id, "equipment_list", data=factories.SAMPLE_PDF + b"\n% v2\n")
    fire(app_id, "resubmit", cast.applicant)
    first, second = _rows(app_id)
    assert (first.trigger, second.number, second.trigger) == ("submit", 2, "resubmit")
    assert second.form["innovation"] == "空压站群控" and first.form.get("innovation") != "空压站群控"
    before = {a["category"]: a for a in first.attachments}
    after = {a["category"]: a for a in second.attachments}
    assert after["equipment_list"]["version"] == before["equipment_list"]["version"] + 1
    assert after["equipment_list"]["sha256"] != before["equipment_list"]["sha256"]


def test_supply_records_each_item_beside_its_answer(cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "supplement_requested")
    factories.upload(factories.flask_app(), cast, app_id, "supplement")
    fire(app_id, "supply", cast.applicant, factories.payload_for("supply", app_id))
    rows = _rows(app_id)
    assert [r.trigger for r in rows] == ["submit", "supply"]
    supplement = rows[-1].supplement
    assert [(i["id"], i["text"], i["answer"]) for i in supplement["items"]] == [
        ("1", "会计师事务所专项审计报告", "已上传专项审计报告"),
        ("2", "设备清单", "已上传设备清单"),
    ]
    assert "supplement" in {a["category"] for a in rows[-1].attachments}


def test_a_refused_submit_records_no_revision(cast):
    app_id = factories.new_application(cast, attach=False)
    with pytest.raises(GuardFailed):
        fire(app_id, "submit", cast.applicant)
    assert _rows(app_id) == []


def test_monitoring_fund_submissions_are_revisions_too(cast):
    app_id = factories.new_application(cast, "monitoring-fund")
    fire(app_id, "submit", cast.applicant)
    assert [r.trigger for r in _rows(app_id)] == ["submit"]


# --- reading and the marker ---------------------------------------------------------------------------------------


@pytest.fixture
def resubmitted(cast) -> int:
    """Submitted, returned, corrected (one field, one attachment) and resubmitted: revisions 1 and 2."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "returned")
    operations.update_draft(cast.applicant, app_id, {"innovation": "空压站群控"}, factories.state_of(app_id)[1])
    factories.upload(factories.flask_app(), cast, app_id, "equipment_list", data=factories.SAMPLE_PDF + b"\n% v2\n")
    fire(app_id, "resubmit", cast.applicant)
    return app_id


def test_changes_default_to_since_the_readers_last_read_revision(cast, resubmitted):
    reviewer = cast.district_reviewer
    with db.transaction() as session:
        never_read = revisions.changes_for(session, reviewer, resubmitted)
    assert (never_read.since, never_read.latest) == (0, 2)
    assert len(never_read.changes.form) > 1  # against nothing, every field is new

    revisions.mark_read(reviewer.id, resubmitted, 1)
    with db.transaction() as session:
        report = revisions.changes_for(session, reviewer, resubmitted)
    assert (report.since, report.latest) == (1, 2)
    assert [c["field"] for c in report.changes.form] == ["innovation"]
    assert [(c["category"], c["change"]) for c in report.changes.attachments] == [("equipment_list", "replaced")]

    revisions.mark_read(reviewer.id, resubmitted, 2)
    with db.transaction() as session:
        up_to_date = revisions.changes_for(session, reviewer, resubmitted)
        explicit = revisions.changes_for(session, reviewer, resubmitted, since=1)
    assert (up_to_date.since, bool(up_to_date.changes)) == (2, False)
    assert [c["field"] for c in explicit.changes.form] == ["innovation"]


def test_the_marker_never_moves_backwards_and_is_per_reader(cast, resubmitted):
    assert revisions.mark_read(cast.district_reviewer.id, resubmitted, 2).number == 2
    assert revisions.mark_read(cast.district_reviewer.id, resubmitted, 1).number == 2
    assert revisions.mark_read(cast.municipal_reviewer.id, resubmitted, 1).number == 1
    with db.transaction() as session:
        rows = session.execute(RevisionRead.__table__.select().where(RevisionRead.application_id == resubmitted)).all()
    assert sorted((r.user_id, r.number) for r in rows) == sorted(
        [(cast.district_reviewer.id, 2), (cast.municipal_reviewer.id, 1)]
    )


@pytest.mark.parametrize("number", [0, 3, -1])
def test_marking_a_revision_that_does_not_exist_is_refused(cast, resubmitted, number):
    with pytest.raises(InvalidInput) as excinfo:
        revisions.mark_read(cast.district_reviewer.id, resubmitted, number)
    assert [p.field for p in excinfo.value.problems] == ["revision"]


def test_since_beyond_the_latest_is_refused(cast, resubmitted):
    with db.transaction() as session, pytest.raises(InvalidInput):
        revisions.changes_for(session, cast.district_reviewer, resubmitted, since=3)


def test_an_application_the_reader_may_not_see_is_not_found(cast, resubmitted):
    other = cast.other_district_reviewer
    with pytest.raises(NotFound):
        revisions.mark_read(other.id, resubmitted, 1)
    with db.transaction() as session:
        with pytest.raises(NotFound):
            revisions.revisions_of(session, other, resubmitted)
        with pytest.raises(NotFound):
            revisions.changes_for(session, other, resubmitted)
        assert [r.number for r in revisions.revisions_of(session, cast.district_reviewer, resubmitted)] == [1, 2]
