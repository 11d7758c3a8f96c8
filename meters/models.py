"""The meter registry: each unit's meters in their tier tree (GB 17167), and the points each tier must have."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.accounts import Organisation
from workflow.db import Base, utcnow


class Meter(Base):
    """One metering point of a unit: tier 1 at the gateway (关口), 2 at a main sub-unit, 3 at main equipment."""

    __tablename__ = "meters"
    __table_args__ = (
        UniqueConstraint("organisation_id", "point_code"),
        CheckConstraint("tier BETWEEN 1 AND 3", name="tier"),
        CheckConstraint("interval_minutes > 0", name="interval_minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))  # the unique constraint leads with it
    point_code: Mapped[str] = mapped_column(String(64))
    tier: Mapped[int]
    energy_type: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(16))
    interval_minutes: Mapped[int]
    cumulative: Mapped[bool]  # a register reading (kWh on the dial), or each interval's quantity
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("meters.id"))
    accuracy_class: Mapped[str] = mapped_column(String(16), default="")
    calibration_due: Mapped[dt.date | None]
    # What the meter measures beyond its energy type: "" (energy use), "it_load" (a data centre's IT equipment, the
    # denominator of PUE) or "output" (the unit's product or output value, the denominator of the saving rate).
    purpose: Mapped[str] = mapped_column(String(16), default="")
    member_uscc: Mapped[str | None] = mapped_column(String(18))  # a park member's gateway meter: whose it is
    # The most a healthy meter can count in an hour (rated power for electricity); steps above it × 1.2 are spikes.
    rated_per_hour: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    register_max: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))  # a cumulative register rolls over here
    registered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    parent: Mapped[Meter | None] = relationship(remote_side=[id])


class MeterRequirement(Base):
    """How many points of an energy type a tier of the unit must have (the denominator of 配备率 and 接入率)."""

    __tablename__ = "meter_requirements"
    __table_args__ = (
        UniqueConstraint("organisation_id", "tier", "energy_type"),
        CheckConstraint("tier BETWEEN 1 AND 3", name="tier"),
        CheckConstraint("required >= 0", name="required"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))  # the unique constraint leads with it
    tier: Mapped[int]
    energy_type: Mapped[str] = mapped_column(String(32))
    required: Mapped[int]
    set_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Reading(Base):
    """One value of a meter at one time (UTC): a register reading if the meter is cumulative, else the interval's
    quantity. Keyed by meter and time, so a batch sent again finds its rows already there."""

    __tablename__ = "meter_readings"
    # By month on PostgreSQL (migration 0012, meters.partitions); one table on SQLite.
    __table_args__ = ({"info": {"partitioned": True}},)

    # A meters.id, taken from the unit's own registry by every path that stores readings; not a foreign key, whose
    # check per row tripled the cost of a load (migration 0012). Meters are never deleted.
    meter_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(primary_key=True)
    value: Mapped[Decimal] = mapped_column(Numeric(20, 6))


class MeterEvent(Base):
    """Something that happened to a meter and explains its data: a replacement (the register starts again), a
    rollover the register does not know its maximum for, or an outage (a gap with a recorded cause)."""

    __tablename__ = "meter_events"
    __table_args__ = (
        CheckConstraint("kind IN ('replaced', 'rollover', 'outage')", name="kind"),
        CheckConstraint("ends_at IS NULL OR ends_at > at", name="ends_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime]  # when it happened (an outage's start), UTC
    ends_at: Mapped[dt.datetime | None]  # an outage's end
    note: Mapped[str] = mapped_column(String(500), default="")
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class EvidenceSnapshot(Base):
    """Every check run once for an application and a period, frozen: its inputs' digests, the results, the rule and
    code versions, and a SHA-256 of the whole. Never updated; a fresh one is added beside it."""

    __tablename__ = "evidence_snapshots"
    # A snapshot the outbox took for a transition is taken once, however often the task is delivered.
    __table_args__ = (UniqueConstraint("application_id", "source_event_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))  # the unique constraint leads with it
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    taken_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    taken_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64))
    source_event_seq: Mapped[int | None] = mapped_column(BigInteger)
    rules: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(32))
    inputs: Mapped[list[Any]]
    results: Mapped[list[Any]]
    # The series the pictures are drawn from (daily consumption, completeness per meter and day, gaps, PUE by
    # month), frozen with the figures so a chart shows exactly what the expert judged.
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sha256: Mapped[str] = mapped_column(String(64))
