"""`manage.py meters register` and `meters require`: what an operator types, sees, and the exit status."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from meters.models import Meter
from tests import factories
from workflow.db import db
from workflow.models import AuditEvent

HEADER = "point_code,tier,energy_type,unit,interval_minutes,cumulative,parent,accuracy_class,calibration_due\n"


def _file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "meters.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_register_lands_the_good_rows_lists_the_bad_by_line_and_exits_1(runner, tmp_path):
    org = factories.make_org()
    path = _file(tmp_path, "E-1,1,electricity,kWh,15,true,,0.5S,2027-03-31\nE-2,2,electricity,kWh,15,true,E-9,,\n")
    result = runner.invoke(args=["meters", "register", str(path), "--org", org.uscc])
    assert result.exit_code == 1
    assert "1 meters registered, 0 updated, 0 unchanged, 1 rows refused" in result.output
    assert "refused line 3: parent: no meter 'E-9' for this unit" in result.output
    with db.transaction() as session:
        codes = session.scalars(select(Meter.point_code).where(Meter.organisation_id == org.id)).all()
    assert codes == ["E-1"]


def test_register_again_changes_nothing_and_exits_0(runner, tmp_path):
    org = factories.make_org()
    path = _file(tmp_path, "E-1,1,electricity,kWh,15,true,,0.5S,\n")
    assert runner.invoke(args=["meters", "register", str(path), "--org", org.uscc]).exit_code == 0
    again = runner.invoke(args=["meters", "register", str(path), "--org", org.uscc])
    assert again.exit_code == 0
    assert "0 meters registered, 0 updated, 1 unchanged, 0 rows refused" in again.output


def test_register_names_an_unknown_unit_and_a_wrong_header(runner, tmp_path):
    path = _file(tmp_path, "E-1,1,electricity,kWh,15,true,,,\n")
    unknown = runner.invoke(args=["meters", "register", str(path), "--org", "91310000000000009X"])
    assert unknown.exit_code == 2 and "--org" in unknown.output
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("code,tier\nE-1,1\n", encoding="utf-8")
    org = factories.make_org()
    result = runner.invoke(args=["meters", "register", str(wrong), "--org", org.uscc])
    assert result.exit_code == 1 and "the header must be point_code,tier" in result.output


def test_require_sets_the_count_and_refuses_what_is_not_a_tier(runner):
    org = factories.make_org()
    args = ["meters", "require", "--org", org.uscc, "--tier", "3", "--energy-type", "electricity", "--count", "40"]
    first = runner.invoke(args=args)
    assert first.exit_code == 0 and "tier 3 electricity requires 40 points (set)" in first.output
    assert "(already)" in runner.invoke(args=args).output
    bad = runner.invoke(args=[*args[:5], "4", *args[6:]])
    assert bad.exit_code == 2 and "--tier" in bad.output


def test_import_streams_the_readings_lists_refusals_and_a_second_run_changes_nothing(runner, tmp_path):
    org = factories.make_org()
    meters = _file(tmp_path, "E-1,1,electricity,kWh,15,true,,0.5S,\n")
    assert runner.invoke(args=["meters", "register", str(meters), "--org", org.uscc]).exit_code == 0
    readings = tmp_path / "readings.csv"
    rows = "".join(f"E-1,2026-03-01T{h:02d}:00:00,{1000 + h}.5\n" for h in range(24))
    readings.write_text("point_code,timestamp,value\n" + rows + "E-2,2026-03-01T00:00:00,1\n", encoding="utf-8")
    first = runner.invoke(args=["meters", "import", str(readings), "--org", org.uscc])
    assert first.exit_code == 1  # one row refused: the others landed
    assert "24 readings stored, 0 already there, 1 rows refused" in first.output
    assert "refused line 26: point_code: no meter 'E-2' registered for this unit" in first.output
    readings.write_text("point_code,timestamp,value\n" + rows, encoding="utf-8")
    again = runner.invoke(args=["meters", "import", str(readings), "--org", org.uscc])
    assert again.exit_code == 0
    assert "0 readings stored, 24 already there, 0 rows refused" in again.output


def test_check_prints_each_check_as_json_and_stores_nothing(runner, tmp_path):
    org = factories.make_org()
    meters = _file(tmp_path, "E-1,1,electricity,kWh,60,true,,0.5S,2027-01-01\n")
    runner.invoke(args=["meters", "register", str(meters), "--org", org.uscc])
    runner.invoke(
        args=["meters", "require", "--org", org.uscc, "--tier", "1", "--energy-type", "electricity", "--count", "1"]
    )
    readings = tmp_path / "readings.csv"
    rows = "".join(f"E-1,2026-03-{d:02d}T{h:02d}:00:00,{d * 24 + h}\n" for d in range(1, 4) for h in range(24))
    readings.write_text("point_code,timestamp,value\n" + rows, encoding="utf-8")
    runner.invoke(args=["meters", "import", str(readings), "--org", org.uscc])
    with db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    args = ["meters", "check", "--org", org.uscc, "--from", "2026-03-01", "--to", "2026-03-03"]
    result = runner.invoke(args=[*args, "--json"])
    assert result.exit_code == 0, result.output
    found = {r["check"]: r for r in json.loads(result.output)}
    assert set(found["ACCESS_RATIO_T1"]) == {"check", "value", "threshold", "passed", "details"}
    assert (found["ACCESS_RATIO_T1"]["value"], found["ACCESS_RATIO_T1"]["passed"]) == ("1.0000", True)
    assert (found["COMPLETENESS"]["value"], found["LONG_GAP"]["value"]) == ("1.0000", "0.0")
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    shown = runner.invoke(args=args)
    assert "✓ ACCESS_RATIO_T1" in shown.output and "rules evidence@1" in shown.output


def test_event_records_a_replacement_and_refuses_an_outage_without_its_end_or_cause(runner, tmp_path):
    org = factories.make_org()
    runner.invoke(
        args=["meters", "register", str(_file(tmp_path, "E-1,1,electricity,kWh,15,true,,,\n")), "--org", org.uscc]
    )
    base = ["meters", "event", "--org", org.uscc, "--meter", "E-1"]
    done = runner.invoke(args=[*base, "--kind", "replaced", "--at", "2026-04-01T01:30", "--note", "换表"])
    assert done.exit_code == 0 and "E-1: replaced recorded" in done.output
    with db.transaction() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "meter_event")).all()[-1]
    assert (event.payload["at"], event.payload["note"]) == ("2026-03-31T17:30:00+00:00", "换表")  # Shanghai time in
    outage = runner.invoke(args=[*base, "--kind", "outage", "--at", "2026-04-02T00:00"])
    assert outage.exit_code == 1 and "an outage needs its end" in outage.output and "cause" in outage.output
    unknown = runner.invoke(args=[*base[:-1], "E-9", "--kind", "rollover", "--at", "2026-04-02T00:00"])
    assert unknown.exit_code == 1 and "no meter 'E-9'" in unknown.output
    bad_time = runner.invoke(args=[*base, "--kind", "rollover", "--at", "yesterday"])
    assert bad_time.exit_code == 2 and "ISO 8601" in bad_time.output
