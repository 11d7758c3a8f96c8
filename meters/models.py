"""The meter registry: each unit's meters in their tier tree (GB 17167), and the points each tier must have."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint
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

    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(primary_key=True)
    value: Mapped[Decimal] = mapped_column(Numeric(20, 6))
