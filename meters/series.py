"""One meter's readings in a period, summarised as they stream past: what every check and picture needs, kept;
the readings themselves, dropped. Memory stays flat however many meters a unit has: one meter's readings at a time.

The step model (`meters.integrity` explains it) is applied here once: a cumulative register's step is the rise to
the next reading, an interval meter's step is its reading; a fall is a recorded replacement (counts nothing), a
rollover (wraps at `register_max`, or the power of ten above the last reading when recorded without one), or a
negative step (counts nothing, a fault); a step above rated × hours × the spike factor is a spike (counted, a
fault). A step counts in the Shanghai day and month of its later reading.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from meters.models import Meter
from meters.rules import EvidenceRules
from workflow.workdays import SHANGHAI

DETAIL_ROWS = 50  # the details list this many failing items, and count the rest
RELIABLE = frozenset({"ok", "rollover", "replaced"})  # kinds of step that do not count against the meter
HOUR = Decimal(3600)


@dataclass(frozen=True)
class Event:
    """A recorded meter event, in UTC (see `meters.models.MeterEvent`)."""

    kind: str
    at: dt.datetime
    ends_at: dt.datetime | None
    note: str


@dataclass(frozen=True)
class Step:
    at: dt.datetime  # the later reading's time (UTC)
    amount: Decimal  # what the step counted; nothing when not known
    kind: str  # ok, rollover, replaced, negative, spike
    before: Decimal | None  # a register's reading before the step
    after: Decimal


@dataclass
class Series:
    """What the checks read of one meter's readings in the period (see the module's note)."""

    meter: Meter
    points: int = 0
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    sha256: str = ""  # of the readings as "time|value" lines, for the snapshot's inputs
    per_day: Counter[dt.date] = field(default_factory=Counter)  # readings per Shanghai day
    recent: int = 0  # readings since `live_since` (liveness)
    gaps: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)  # (last point before, first after)
    total: Decimal = Decimal(0)  # what the steps counted
    daily: dict[dt.date, Decimal] = field(default_factory=dict)  # per Shanghai day with a step
    monthly: dict[str, Decimal] = field(default_factory=dict)  # per Shanghai month ("2026-03") with a step
    faults: int = 0  # negative steps, spikes and stuck runs
    fault_rows: list[Step] = field(default_factory=list)  # the first DETAIL_ROWS negative steps and spikes
    explained: list[Step] = field(default_factory=list)  # the first DETAIL_ROWS replacements and rollovers
    stuck: list[tuple[dt.datetime, dt.datetime, Decimal]] = field(default_factory=list)  # the first DETAIL_ROWS
    midnights: dict[dt.date, Decimal] = field(default_factory=dict)  # running total at each Shanghai midnight
    at_boundary: dict[dt.datetime, Decimal | None] = field(default_factory=dict)  # nearest month boundary's

    def expected_points(self, since: dt.datetime, until: dt.datetime) -> int:
        return int((until - since).total_seconds() // (self.meter.interval_minutes * 60))


def months_judged(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The whole Shanghai months of a period whose following month's first day the period reaches (both
    midnights are needed): (first day, the following month's first day)."""
    months = []
    first = start.replace(day=1)
    if first < start:
        first = (first + dt.timedelta(days=32)).replace(day=1)
    while True:
        following = (first + dt.timedelta(days=32)).replace(day=1)
        if following > end:
            break
        months.append((first, following))
        first = following
    return months


def _wrap(previous: Decimal, register_max: Decimal | None) -> Decimal:
    """Where the register rolls over: its stated maximum, else the power of ten above the last reading."""
    if register_max is not None:
        return register_max
    digits = len(str(int(previous))) if previous >= 1 else 1
    return Decimal(10) ** digits


class _Events:
    """A meter's events of one kind as sorted times, asked in time order: is there one in (since, at]?"""

    def __init__(self, events: list[Event], kind: str):
        self.times = sorted(e.at for e in events if e.kind == kind)

    def between(self, since: dt.datetime, at: dt.datetime) -> bool:
        if not self.times:
            return False
        i = bisect.bisect_right(self.times, since)
        return i < len(self.times) and self.times[i] <= at


@dataclass
class Window:
    """What a summary is taken for: the period's instants, where liveness counts from, the month boundaries."""

    since: dt.datetime
    until: dt.datetime
    live_since: dt.datetime
    boundaries: list[dt.datetime]  # Shanghai midnights that start a judged month or follow one, sorted


def summarise(
    meter: Meter,
    rows: Iterable[tuple[Any, Any]],
    events: list[Event],
    window: Window,
    rules: EvidenceRules,
) -> Series:
    """One pass over the meter's (time, value) rows in time order; nothing of them is kept but the summary.

    The loop is written out flat (no call per reading but the hash's): it runs once per reading of every meter."""
    s = Series(meter)
    # Shanghai's offset over the period: one number (UTC+8 since 1991); a period across a change is refused.
    offset = SHANGHAI.utcoffset(window.since.replace(tzinfo=None))
    if offset != SHANGHAI.utcoffset(window.until.replace(tzinfo=None)) or offset is None:
        raise ValueError(f"Asia/Shanghai changed its offset between {window.since} and {window.until}")
    utc = dt.UTC
    cumulative, register_max = meter.cumulative, meter.register_max
    interval = dt.timedelta(minutes=meter.interval_minutes)
    rated = meter.rated_per_hour
    spike = rules.spike_factor
    interval_limit = rated * (Decimal(meter.interval_minutes) / 60) * spike if rated is not None else None
    rated_spike = rated * spike if rated is not None else None
    replaced, rolled = _Events(events, "replaced"), _Events(events, "rollover")
    any_events = bool(replaced.times or rolled.times)
    stuck_limit, stuck_points = dt.timedelta(hours=rules.stuck_hours), rules.stuck_points
    slack = dt.timedelta(minutes=rules.midnight_minutes)
    live_since = window.live_since
    digest = hashlib.sha256()
    per_day: Counter[dt.date] = s.per_day
    daily: defaultdict[dt.date, Decimal] = defaultdict(Decimal)
    monthly: defaultdict[tuple[int, int], Decimal] = defaultdict(Decimal)
    midnights = s.midnights
    boundaries, b = window.boundaries, 0
    next_boundary = boundaries[0] if boundaries else None
    near: dict[dt.datetime, list[tuple[dt.datetime, Decimal]]] = {}
    previous_mark: tuple[dt.datetime, Decimal] | None = None
    mark_before = window.since  # gaps run between marks: the period's start, the readings, the period's end
    before_t: dt.datetime | None = None
    before_v = Decimal(0)
    run_at: dt.datetime | None = None
    run_value = Decimal(0)
    run_length, run_last = 0, window.since
    total = Decimal(0)
    points = recent = 0
    zero = Decimal(0)

    def flag(step: Step) -> None:
        if step.kind in RELIABLE:
            if len(s.explained) < DETAIL_ROWS:
                s.explained.append(step)
            return
        s.faults += 1
        if len(s.fault_rows) < DETAIL_ROWS:
            s.fault_rows.append(step)

    def end_run() -> None:
        if run_at is None:
            return
        long_enough = run_last - run_at >= stuck_limit and run_length >= stuck_points
        if long_enough and (cumulative or run_value != 0):
            s.faults += 1
            if len(s.stuck) < DETAIL_ROWS:
                s.stuck.append((run_at, run_last, run_value))

    for raw_at, raw_value in rows:
        tz = raw_at.tzinfo
        at = raw_at if tz is utc else raw_at.astimezone(utc) if tz is not None else raw_at.replace(tzinfo=utc)
        value = raw_value if type(raw_value) is Decimal else Decimal(raw_value)
        digest.update(f"{at.isoformat()}|{value}\n".encode())
        points += 1
        local = at + offset  # Shanghai's wall clock (labelled UTC: compared only with the like)
        day = local.date()
        per_day[day] += 1
        if at >= live_since:
            recent += 1
        if at - mark_before > interval:
            s.gaps.append((mark_before, at))
        mark_before = at
        if run_at is not None and value == run_value:
            run_length, run_last = run_length + 1, at
        else:
            end_run()
            run_at, run_value, run_length, run_last = at, value, 1, at
        # The step that ends at this reading, and what it counted.
        amount: Decimal | None
        if not cumulative:
            if value < 0:
                amount = zero
                flag(Step(at, zero, "negative", None, value))
            else:
                amount = value
                if interval_limit is not None and value > interval_limit:
                    flag(Step(at, value, "spike", None, value))
        elif before_t is None:
            amount = None  # the first reading: the running total starts at nothing
        else:
            rise = value - before_v
            kind = "ok"
            if any_events and replaced.between(before_t, at):
                rise, kind = zero, "replaced"
            elif rise < 0:
                if register_max is None and not (any_events and rolled.between(before_t, at)):
                    rise, kind = zero, "negative"
                else:
                    rise, kind = _wrap(before_v, register_max) - before_v + value, "rollover"
            if (
                kind in ("ok", "rollover")
                and rated_spike is not None
                and rise * HOUR > rated_spike * Decimal((at - before_t).total_seconds())
            ):
                kind = "spike"
            amount = rise
            if kind != "ok":
                flag(Step(at, rise, kind, before_v, value))
        if amount is not None:
            daily[day] += amount
            monthly[(local.year, local.month)] += amount
            total += amount
        if cumulative:
            # The running total at this reading: kept at Shanghai midnights and around each month boundary.
            near_day = (local + slack).date()
            if near_day != day or local - dt.datetime.combine(day, dt.time(), utc) <= slack:
                midnights.setdefault(near_day, total)
            while next_boundary is not None and next_boundary <= at:
                near[next_boundary] = [m for m in (previous_mark, (at, total)) if m is not None]
                b += 1
                next_boundary = boundaries[b] if b < len(boundaries) else None
            previous_mark = (at, total)
        before_t, before_v = at, value
        if s.first is None:
            s.first = at
    end_run()
    s.last = before_t
    s.points, s.recent = points, recent
    if window.until - mark_before > interval:
        s.gaps.append((mark_before, window.until))
    while b < len(boundaries):
        near[boundaries[b]] = [previous_mark] if previous_mark is not None else []
        b += 1
    month_slack = dt.timedelta(days=rules.month_days)
    for boundary, candidates in near.items():
        within = [m for m in candidates if abs(m[0] - boundary) <= month_slack]
        s.at_boundary[boundary] = min(within, key=lambda m: abs(m[0] - boundary))[1] if within else None
    s.total, s.daily, s.sha256 = total, dict(daily), digest.hexdigest()
    s.monthly = {f"{year:04d}-{month:02d}": counted for (year, month), counted in monthly.items()}
    return s
