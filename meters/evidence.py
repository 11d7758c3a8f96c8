"""What the evidence checks read: a unit's registry, its recorded meter events and its readings for a period.

Periods are Shanghai dates, both included; readings are read in UTC between their Shanghai midnights. A gap stays
a gap: nothing is filled. Each check returns a `CheckResult` with its value, threshold, whether it passed (None:
nothing to judge, e.g. no required points set), the period, and details naming the meters, days and gaps behind it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from meters.models import Meter, MeterEvent, MeterRequirement, Reading
from meters.rules import EvidenceRules
from meters.rules import rules as newest_rules
from meters.series import Event, Series, Window, months_judged, summarise
from workflow.beijing import beijing_time
from workflow.db import as_utc, table_of
from workflow.workdays import SHANGHAI

RATIO = Decimal("0.0001")  # ratios shown to 4 places, rounded down: 0.79996 is not 80 %
STREAM_ROWS = 10_000  # rows fetched at a time while a meter's readings stream past


@dataclass(frozen=True)
class Period:
    """Shanghai dates, both included."""

    start: dt.date
    end: dt.date

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), SHANGHAI).astimezone(dt.UTC)

    @property
    def until(self) -> dt.datetime:
        """The instant after the period: the Shanghai midnight that ends its last day."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), SHANGHAI).astimezone(dt.UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def before(self) -> Period:
        """The period of the same length just before this one (the base of a before/after comparison)."""
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end)

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


@dataclass(frozen=True)
class CheckResult:
    check: str
    value: str | None
    threshold: str | None
    passed: bool | None
    period: Period
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "value": self.value,
            "threshold": self.threshold,
            "passed": self.passed,
            "period": self.period.as_dict(),
            "details": self.details,
        }


@dataclass
class Evidence:
    """What the checks read: the unit's meters, required points, events, each meter's readings in the period
    summarised (`meters.series`), the same for the period before it (for before/after comparisons), and what the
    application declared."""

    period: Period
    meters: list[Meter]
    required: dict[tuple[int, str], int]  # (tier, energy type) → points required
    series: dict[int, Series]  # meter id → readings
    events: dict[int, list[Event]] = field(default_factory=dict)  # meter id → its events, oldest first
    base: Evidence | None = None  # the period before, when loaded
    declared: dict[str, Any] = field(default_factory=dict)  # the application's form, when there is one
    rules: EvidenceRules | None = None  # the rules the series were summarised under

    def energy_meters(self) -> list[Meter]:
        return [m for m in self.meters if m.purpose != "output"]


def load(
    session: Session,
    organisation_id: int,
    period: Period,
    with_base: bool = True,
    declared: dict[str, Any] | None = None,
    rules: EvidenceRules | None = None,
) -> Evidence:
    """The unit's registry, events and each meter's readings in the period, summarised one meter at a time as they
    stream from the database (`meters.series`); with the period before it too when `with_base`."""
    rules = rules or newest_rules()
    meters = list(
        session.scalars(select(Meter).where(Meter.organisation_id == organisation_id).order_by(Meter.point_code))
    )
    required = {
        (r.tier, r.energy_type): r.required
        for r in session.scalars(select(MeterRequirement).where(MeterRequirement.organisation_id == organisation_id))
    }
    events: dict[int, list[Event]] = {}
    ids = [m.id for m in meters]
    if ids:
        for e in session.scalars(
            select(MeterEvent).where(MeterEvent.meter_id.in_(ids)).order_by(MeterEvent.at, MeterEvent.id)
        ):
            ends = as_utc(e.ends_at) if e.ends_at is not None else None
            events.setdefault(e.meter_id, []).append(Event(e.kind, as_utc(e.at), ends, e.note))
    series = _series(session, meters, period, events, rules)
    evidence = Evidence(period, meters, required, series, events, None, declared or {}, rules)
    if with_base:
        before = period.before()
        # Only what a before/after comparison reads: gateways, IT load and output.
        compared = [m for m in meters if m.tier == 1 or m.purpose]
        base = _series(session, compared, before, events, rules)
        evidence.base = Evidence(before, meters, required, base, events, None, {}, rules)
    return evidence


def window_of(period: Period, rules: EvidenceRules) -> Window:
    """The instants a summary needs: the period's, where liveness counts from, the judged months' boundaries."""
    months = months_judged(period.start, period.end)
    boundaries = sorted({dt.datetime.combine(day, dt.time(), SHANGHAI) for month in months for day in month})
    live_since = max(period.since, period.until - dt.timedelta(days=rules.live_days))
    return Window(period.since, period.until, live_since, boundaries)


def _series(
    session: Session, meters: list[Meter], period: Period, events: dict[int, list[Event]], rules: EvidenceRules
) -> dict[int, Series]:
    window = window_of(period, rules)
    readings = table_of(Reading)
    query = (
        select(readings.c.at, readings.c.value)
        .where(readings.c.meter_id == bindparam("meter"), readings.c.at >= period.since, readings.c.at < period.until)
        .order_by(readings.c.at)
    )
    connection = session.connection()  # Core rows, streamed: the ORM's per-row bookkeeping is not needed here
    found = {}
    for meter in meters:
        rows = connection.execute(query, {"meter": meter.id}, execution_options={"yield_per": STREAM_ROWS})
        found[meter.id] = summarise(meter, rows, events.get(meter.id, []), window, rules)
    return found


def ratio(part: int | Decimal, whole: int | Decimal) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(RATIO, rounding=ROUND_DOWN)


def ratio_up(part: int | Decimal, whole: int | Decimal) -> Decimal:
    """A share judged against an upper limit, shown rounded up: 0.05001 is not 5 %."""
    return (Decimal(part) / Decimal(whole)).quantize(RATIO, rounding=ROUND_UP)


def amount(value: Decimal) -> str:
    """A quantity without trailing zeros or exponent: 1000.000000 → "1000"."""
    return format(value.normalize(), "f")


def shanghai(when: dt.datetime) -> str:
    return beijing_time(when)


def hours(span: dt.timedelta) -> Decimal:
    return (Decimal(span.total_seconds()) / 3600).quantize(Decimal("0.1"))
