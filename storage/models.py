"""Rows storage keeps about the bytes it holds: each archive package made for an application."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.db import Base, utcnow


class ArchivePackage(Base):
    """A signed BagIt package of an application's file, stored as one blob (never changed: a new one is added)."""

    __tablename__ = "archive_packages"
    # One package per archiving event, however often the task is delivered.
    __table_args__ = (UniqueConstraint("application_id", "source_event_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    source_event_seq: Mapped[int | None] = mapped_column(BigInteger)
    blob_key: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    files: Mapped[int]
    algorithm: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(16))  # the signing key's fingerprint
    made_by: Mapped[str] = mapped_column(String(64))
    made_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Write-once (S3 object lock, COMPLIANCE) until then, as the store confirmed; None where it cannot promise it.
    retained_until: Mapped[dt.datetime | None]
