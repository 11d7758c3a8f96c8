"""Supplement requests: what the municipal reviewer asked for, by when, and what came back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

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
