"""What people are told and how it reached them: a notification per person per occasion (the inbox), a delivery per
notification per channel (mail, SMS, webhook), and each person's preferences per kind."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.db import Base, utcnow

MODES = ("immediate", "digest", "never")
STATUSES = ("pending", "sending", "sent", "held", "digested", "dead", "skipped")
CHANNELS = ("email", "sms", "webhook")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Notification(Base):
    """One thing one person is told: an audited event or a reminder, once per person per occasion."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("occasion", "user_id"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    event_seq: Mapped[int | None] = mapped_column(BigInteger)
    # "event:<seq>" for an audited event; "remind:<kind>:<application or user>:<date>…" for a reminder. The unique
    # (occasion, user) is what makes a re-run task or a second beat tell no one twice.
    occasion: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32))  # notifications.kinds.KINDS
    note: Mapped[str] = mapped_column(Text, default="", server_default="")  # the comment or points, for this reader
    due_on: Mapped[dt.date | None]  # a deadline the reader faces (Beijing date): such mail always goes
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)  # a reminder's figures (days left, the queue)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]


class Delivery(Base):
    """A notification (or a day's digest of them) on its way through one channel; idempotent on
    (occasion, recipient, channel), retried with backoff, then dead until an administrator sends it again."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("occasion", "user_id", "channel"),
        CheckConstraint(f"status IN ({_in(STATUSES)})", name="status"),
        CheckConstraint(f"channel IN ({_in(CHANNELS)})", name="channel"),
        Index("ix_deliveries_status", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"), index=True)  # None: digest
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    occasion: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(254))  # as it was when the notification was made
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None]
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))  # a held one, once in a digest
    message_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]


class NotificationPreference(Base):
    """How one person wants one kind by mail: at once, in the day's digest, or never (deadlines always go)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (CheckConstraint(f"mode IN ({_in(MODES)})", name="mode"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))
