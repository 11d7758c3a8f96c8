"""The meter registry from CSV (GB 17167-2006 tiers): rows refused by line, the tier tree, reloads that do nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from meters import registry
from meters.models import Meter, MeterRequirement
from tests import factories
from workflow.accounts import SYSTEM
from workflow.db import db
from workflow.errors import InvalidInput
from workflow.models import AuditEvent

HEADER = "point_code,tier,energy_type,unit,interval_minutes,cumulative,parent,accuracy_class,calibration_due\n"
# A gateway meter, a main sub-unit under it and a machine under that; the machine comes first in the file.
TREE = (
    HEADER
    + "E-3-01,3,electricity,kWh,15,true,E-2-01,1.0,2027-06-30\n"
    + "E-1-01,1,electricity,kWh,15,true,,0.5S,2027-03-31\n"
    + "E-2-01,2,electricity,kWh,15,true,E-1-01,0.5S,2027-03-31\n"
    + "G-1-01,1,natural_gas,m3,60,false,,1.5,\n"
)


def _read(text: str):  # type: ignore[no-untyped-def]
    return registry.read_registry(io.StringIO(text))


def _meters(org_id: int) -> dict[str, Meter]:
    with db.transaction() as session:
        rows = session.scalars(select(Meter).where(Meter.organisation_id == org_id)).all()
        session.expunge_all()
        return {m.point_code: m for m in rows}


def test_a_tier_tree_registers_whatever_the_order_of_the_file():
    org = factories.make_org()
    rows, problems = _read(TREE)
    assert problems == []
    with db.transaction() as session:
        result = registry.register(session, SYSTEM, session.merge(org), rows, "tree.csv")
    assert sorted(result.created) == ["E-1-01", "E-2-01", "E-3-01", "G-1-01"]
    meters = _meters(org.id)
    assert meters["E-3-01"].parent_id == meters["E-2-01"].id
    assert meters["E-2-01"].parent_id == meters["E-1-01"].id
    assert meters["E-1-01"].parent_id is None and meters["E-1-01"].cumulative is True
    assert meters["G-1-01"].cumulative is False and meters["G-1-01"].calibration_due is None
    assert str(meters["E-3-01"].calibration_due) == "2027-06-30"


def test_registering_the_same_file_again_changes_nothing_and_a_changed_row_updates():
    org = factories.make_org()
    rows, _ = _read(TREE)
    with db.transaction() as session:
        registry.register(session, SYSTEM, session.merge(org), rows)
    with db.transaction() as session:
        again = registry.register(session, SYSTEM, session.merge(org), rows)
        events = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "meters_loaded")).all()
    assert (again.created, again.updated, len(again.unchanged)) == ([], [], 4)
    assert sum(1 for e in events if e.payload["uscc"] == org.uscc) == 1  # an unchanged reload is not an event
    changed, _ = _read(TREE.replace("G-1-01,1,natural_gas,m3,60", "G-1-01,1,natural_gas,m3,30"))
    with db.transaction() as session:
        result = registry.register(session, SYSTEM, session.merge(org), changed)
    assert result.updated == ["G-1-01"]
    assert _meters(org.id)["G-1-01"].interval_minutes == 30


def test_bad_rows_are_refused_by_line_and_the_good_ones_still_land():
    text = (
        HEADER
        + "M-1,1,electricity,kWh,15,true,,0.5S,\n"  # line 2: good
        + "M-2,4,electricity,kWh,15,true,,,\n"  # line 3: no tier 4
        + "M-3,1,electricity,m3,15,true,,,\n"  # line 4: electricity is not counted in m3
        + "M-4,1,steam,t,0,true,,,\n"  # line 5: interval 0
        + "M-5,1,water,t,15,maybe,,,\n"  # line 6: cumulative neither true nor false
        + "M-6,1,heat,GJ,15,false,,,2027-02-30\n"  # line 7: no such date
        + "M-1,1,electricity,kWh,15,true,,,\n"  # line 8: the same point code again
        + "M-7,1,oil,t,15,false,,,\n"  # line 9: no energy type 'oil'
        + "M-8,2,electricity,kWh,15,true,NOPE,,\n"  # line 10: parses; its parent does not exist
        + "M-9,3,electricity,kWh,15,true,M-1,,\n"  # line 11: a tier-3 meter under a tier-1 one
    )
    rows, problems = _read(text)
    assert [(p.line, p.column) for p in problems] == [
        (3, "tier"),
        (4, "unit"),
        (5, "interval_minutes"),
        (6, "cumulative"),
        (7, "calibration_due"),
        (8, "point_code"),
        (9, "energy_type"),
    ]
    assert "already on line 2" in str(problems[5])
    org = factories.make_org()
    with db.transaction() as session:
        result = registry.register(session, SYSTEM, session.merge(org), rows)
    assert result.created == ["M-1"]
    assert [(p.line, p.column) for p in result.refused] == [(10, "parent"), (11, "parent")]
    assert "tier 1" in result.refused[1].message and "tier 2" in result.refused[1].message


def test_a_file_with_another_header_is_refused_whole():
    with pytest.raises(InvalidInput, match="the header must be point_code,tier,energy_type"):
        _read("point,tier\nX,1\n")


def test_required_points_per_tier_and_energy_type_are_set_once_and_audited():
    org = factories.make_org()
    with db.transaction() as session:
        assert registry.require(session, SYSTEM, session.merge(org), 3, "electricity", 40) is True
    with db.transaction() as session:
        assert registry.require(session, SYSTEM, session.merge(org), 3, "electricity", 40) is False
        assert registry.require(session, SYSTEM, session.merge(org), 3, "electricity", 45) is True
        required = session.scalars(select(MeterRequirement).where(MeterRequirement.organisation_id == org.id)).one()
        assert (required.tier, required.energy_type, required.required) == (3, "electricity", 45)
    with db.transaction() as session, pytest.raises(InvalidInput) as refused:
        registry.require(session, SYSTEM, session.merge(org), 4, "plasma", -1)
    assert {p.field for p in refused.value.problems} == {"tier", "energy_type", "count"}


def test_the_optional_columns_name_purpose_member_and_limits_and_bad_ones_are_refused_by_line():
    header = HEADER.rstrip("\n") + ",purpose,member,rated_per_hour,register_max\n"
    rows, problems = _read(
        header
        + "IT-1,2,electricity,kWh,15,true,,,,it_load,,800,999999.99\n"  # line 2: fine
        + "OUT,1,output,t,1440,false,,,,output,,,\n"  # line 3: fine
        + "M-1,1,electricity,kWh,15,true,,,,,91310000MA1FL0000X,,\n"  # line 4: fine
        + "X-1,3,electricity,kWh,15,false,,,,output,,,\n"  # line 5: output purpose on electricity
        + "X-2,3,electricity,kWh,15,false,,,,,,-5,\n"  # line 6: negative rated power
        + "X-3,3,electricity,kWh,15,false,,,,,,,1000\n"  # line 7: an interval meter has no register
        + "X-4,3,electricity,kWh,15,false,,,,,SHORT,,\n"  # line 8: not a USCC
    )
    assert [(r.point_code, r.purpose, r.member_uscc) for r in rows] == [
        ("IT-1", "it_load", None),
        ("OUT", "output", None),
        ("M-1", "", "91310000MA1FL0000X"),
    ]
    assert str(rows[0].rated_per_hour) == "800" and str(rows[0].register_max) == "999999.99"
    assert [(p.line, p.column) for p in problems] == [
        (5, "purpose"),
        (6, "rated_per_hour"),
        (7, "register_max"),
        (8, "member"),
    ]
    with pytest.raises(InvalidInput, match="optionally with purpose"):
        _read(HEADER.rstrip("\n") + ",colour\n")
