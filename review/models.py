"""Supplement requests (what was asked, by when, what came back) and revisions (each submission, frozen)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.accounts import User
from workflow.db import Base, utcnow


class SupplementRequest(Base):
    __tablename__ = "supplement_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    # [{"id": "1", "text": "..."}] — answers come back keyed by item id.
    items: Mapped[list[Any]]
    due_date: Mapped[dt.date]
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_seq: Mapped[int | None]
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    answers: Mapped[dict[str, Any] | None]
    answered_at: Mapped[dt.datetime | None]


class Revision(Base):
    """One submission as it stood: the form, the current attachments and any supplement answers, frozen."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("application_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unique constraint leads with application_id, so it serves as the index too.
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    number: Mapped[int]  # 1, 2, … per application
    trigger: Mapped[str] = mapped_column(String(64))  # submit | resubmit | supply
    form: Mapped[dict[str, Any]]
    # [{"attachment_id", "category", "filename", "sha256", "version"}] of the current version of each category.
    attachments: Mapped[list[Any]]
    # supply only: {"request_id", "due_date", "items": [{"id", "text", "answer"}]}.
    supplement: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    event_seq: Mapped[int | None] = mapped_column(BigInteger)

    created_by: Mapped[User | None] = relationship()


class RevisionRead(Base):
    """How far one reader has read an application's revisions (it only ever moves forward)."""

    __tablename__ = "revision_reads"
    __table_args__ = (UniqueConstraint("user_id", "application_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    number: Mapped[int]
    read_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
