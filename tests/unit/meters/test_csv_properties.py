"""Properties of the CSV parsers (hypothesis): any text or bytes end in parsed rows or a named refusal, never an
unhandled exception; and a file written from rows reads back as those rows. Readings (meters.ingest), the meter
registry (meters.registry) and the key energy-using unit list (review.keyunits)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from forms.uscc import ALPHABET, check_character
from meters.ingest import READINGS_HEADER, ReadingRow, _item, read_readings
from meters.registry import ENERGY_UNITS, REGISTRY_HEADER, MeterRow, RowProblem, read_registry
from review.keyunits import HEADER as KEY_UNITS_HEADER
from review.keyunits import ListedUnit, parse_csv
from workflow.errors import InvalidInput

FAST = settings(max_examples=80, deadline=None)

# Cells a hostile or careless file holds: times at the calendar's ends, numbers past the column, quotes, NULs.
_cells = st.one_of(
    st.text(max_size=20),
    st.sampled_from([
        "0001-01-01T00:00:00", "9999-12-31T23:59:59-10:00", "2026-03-01T00:15:00+08:00", "2026-02-30T00:00",
        "NaN", "sNaN", "-Infinity", "1e999999", "1" * 30, "12.3456789", "", " ", '"', "\x00", "=1+1", "是",
    ]),
)  # fmt: skip
_rows = st.lists(st.lists(_cells, min_size=0, max_size=5), max_size=6)


def render(header: tuple[str, ...] | list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@FAST
@given(st.one_of(st.text(max_size=200), _rows.map(lambda rows: render(READINGS_HEADER, rows))))
@example("point_code,timestamp,value\nM1,0001-01-01T00:00:00,1\n")  # year 1 in Shanghai is before year 1 in UTC
def test_any_readings_text_gives_rows_or_named_refusals(text):
    try:
        parsed = list(read_readings(io.StringIO(text, newline="")))
    except InvalidInput as refused:
        assert [p.code for p in refused.problems] == ["wrong_header"]
        return
    for row in parsed:
        assert isinstance(row, ReadingRow | RowProblem)
        if isinstance(row, RowProblem):
            assert row.line >= 2 and row.column in ("row", "timestamp", "value") and row.message


_codes = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20).filter(
    lambda s: s == s.strip() and s.strip()
)
_times = st.datetimes(
    min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2100, 12, 31), timezones=st.just(dt.UTC)
).map(lambda t: t.replace(microsecond=0))
_offsets = st.sampled_from([dt.timedelta(hours=8), dt.timedelta(0), dt.timedelta(hours=-5, minutes=-30)])
_values = st.decimals(min_value=-(10**13), max_value=10**13, places=6, allow_nan=False, allow_infinity=False)


@FAST
@given(st.lists(st.tuples(_codes, _times, _offsets, _values), max_size=8))
def test_readings_written_as_csv_read_back_as_the_same_readings(readings):
    rows = [
        [code, at.astimezone(dt.timezone(offset)).isoformat(), f"{value:f}"] for code, at, offset, value in readings
    ]
    parsed = list(read_readings(io.StringIO(render(READINGS_HEADER, rows), newline="")))
    assert [(r.point_code, r.at, r.value) for r in parsed] == [(c, at, v) for c, at, _, v in readings]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _cells,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(READINGS_HEADER), inner, max_size=3),
    max_leaves=6,
)


@FAST
@given(st.integers(0, 9999), _json)
@example(0, {"point_code": "M1", "timestamp": "0001-01-01T00:00:00", "value": 1})
def test_any_pushed_item_is_a_reading_or_a_named_refusal(index, item):
    row = _item(index, item)
    assert isinstance(row, ReadingRow | RowProblem) and row.line == index


@FAST
@given(
    st.permutations(REGISTRY_HEADER).map(list),
    st.lists(st.lists(_cells | st.sampled_from(["1", "2", "electricity", "kWh", "15", "true"]), max_size=10)),
)
def test_any_registry_text_gives_meters_or_named_refusals(header, rows):
    try:
        meters, problems = read_registry(io.StringIO(render(header, rows), newline=""))
    except InvalidInput as refused:
        assert [p.code for p in refused.problems] == ["wrong_header"]
        return
    assert all(isinstance(m, MeterRow) for m in meters)
    assert all(p.line >= 2 and p.column and p.message for p in problems)
    assert len(meters) + len({p.line for p in problems}) <= len(rows)


_meters = st.builds(
    lambda code, tier, energy, interval, cumulative, due: (code, tier, energy, interval, cumulative, due),
    st.text(st.sampled_from("ABCDEFGH0123456789-_."), min_size=1, max_size=20),
    st.sampled_from([1, 2, 3]),
    st.sampled_from(sorted(e for e in ENERGY_UNITS if e != "output")),
    st.integers(1, 1440),
    st.booleans(),
    st.none() | st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
)


@FAST
@given(st.lists(_meters, max_size=6, unique_by=lambda m: m[0]))
def test_a_registry_written_as_csv_reads_back_as_the_same_meters(meters):
    rows = [
        [code, tier, energy, ENERGY_UNITS[energy][0], interval, "true" if cumulative else "false", "", "1.0",
         due.isoformat() if due else ""]
        for code, tier, energy, interval, cumulative, due in meters
    ]  # fmt: skip
    parsed, problems = read_registry(io.StringIO(render(REGISTRY_HEADER, rows), newline=""))
    assert problems == []
    assert [(m.point_code, m.tier, m.energy_type, m.interval_minutes, m.cumulative, m.calibration_due)
            for m in parsed] == meters  # fmt: skip


@FAST
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200), _rows.map(lambda r: render(KEY_UNITS_HEADER, r))))
@example(b"\xff\xfe")  # not UTF-8
def test_any_key_unit_list_gives_units_or_named_refusals(data):
    try:
        units = parse_csv(data, 2021)
    except InvalidInput as refused:
        assert refused.problems and all(p.field and p.code and p.message for p in refused.problems)
        return
    assert units and all(isinstance(u, ListedUnit) and u.year == 2021 for u in units)


_usccs = st.text(alphabet=ALPHABET, min_size=17, max_size=17).map(lambda body: body + check_character(body))
_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=200).filter(
    lambda s: s == s.strip() and s
)


@FAST
@given(st.lists(st.tuples(_usccs, _names), min_size=1, max_size=6, unique_by=lambda u: u[0]), st.booleans())
def test_a_key_unit_list_written_as_csv_reads_back_as_the_same_units(units, as_bytes):
    text = render(KEY_UNITS_HEADER, [[code, name, 2021] for code, name in units])
    parsed = parse_csv(("\ufeff" + text).encode() if as_bytes else text, 2021)
    assert [(u.uscc, u.name, u.year) for u in parsed] == [(code, name, 2021) for code, name in units]
    assert [u.line for u in parsed] == sorted(u.line for u in parsed)


def test_the_properties_reach_both_outcomes():
    """The generators are not vacuous: a good row parses, a bad one is refused by line and column."""
    parsed = list(read_readings(io.StringIO("point_code,timestamp,value\nM1,2026-03-01T00:15:00,1.5\nM1,x,1\n")))
    assert isinstance(parsed[0], ReadingRow) and parsed[0].value == Decimal("1.5")
    assert parsed[1] == RowProblem(3, "timestamp", parsed[1].message)
