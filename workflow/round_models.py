"""Rounds through pages: a programme version's draft copy before it is published, and late submissions admitted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.accounts import User
from workflow.db import Base, utcnow
from workflow.models import ProgrammeVersion

DRAFT_STATUSES = ("open", "published", "discarded")


class ProgrammeDraft(Base):
    """An administrator's copy of a published version, edited, then published as the next version (a new round)."""

    __tablename__ = "programme_drafts"
    __table_args__ = (CheckConstraint("status IN ('open', 'published', 'discarded')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    based_on_id: Mapped[int] = mapped_column(ForeignKey("programme_versions.id"))
    # The definition as it will be published (its `version` is set at publishing: the next free number then).
    definition: Mapped[dict[str, Any]]
    # The year's budget is not part of a definition: kept here and set at publishing (a stage's round hook).
    budget_year: Mapped[int | None]
    budget_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_version_id: Mapped[int | None] = mapped_column(ForeignKey("programme_versions.id"))

    based_on: Mapped[ProgrammeVersion] = relationship(foreign_keys=[based_on_id])
    published_version: Mapped[ProgrammeVersion | None] = relationship(foreign_keys=[published_version_id])
    created_by: Mapped[User | None] = relationship()


class LateAdmission(Base):
    """An administrator admits one application's submission after its round's window closed, with the reason."""

    __tablename__ = "late_admissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    admitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    admitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    admitted_by: Mapped[User] = relationship()
