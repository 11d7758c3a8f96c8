"""Programme versions, applications, assignments, the audit chain, the outbox, deadlines."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.accounts import Organisation, User
from workflow.db import Base, utcnow


class ProgrammeVersion(Base):
    """One published, immutable version of a programme definition."""

    __tablename__ = "programme_versions"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    definition: Mapped[dict[str, Any]]
    digest: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def label(self) -> str:
        return f"{self.code}@{self.version}"


class Application(Base):
    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_version_id: Mapped[int] = mapped_column(ForeignKey("programme_versions.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    project_name: Mapped[str] = mapped_column(String(300))
    # The project's district (所属地区): decides which district authority pre-reviews it.
    district: Mapped[str | None] = mapped_column(String(16), index=True)
    form: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(40), index=True)
    # Bumped by every change; clients send it back (expected_version, If-Match).
    version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None]
    # 申报编号 (workflow.references): set once, by the first submission; None for a draft never submitted.
    reference: Mapped[str | None] = mapped_column(String(32), unique=True)

    programme_version: Mapped[ProgrammeVersion] = relationship()
    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Application {self.id} {self.state} v{self.version}>"


class Assignment(Base):
    """A person assigned to an application (an expert on its panel; the leader flagged).

    The assignment opens the file to the person only once they have declared no conflict of interest."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("application_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    is_leader: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The person declares before seeing the file: no conflict (False) opens it; a conflict (True) ends the assignment.
    declared_at: Mapped[dt.datetime | None]
    conflict: Mapped[bool | None]
    declaration_note: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()


class AuditEvent(Base):
    """Append-only, hash-chained record of every change and every denied attempt."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_application_seq", "application_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[dt.datetime]
    actor_id: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    # Not a foreign key: attempts on unknown ids are recorded too, and audit rows never block anything.
    application_id: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(String(16))  # created | edited | transition | denied | assigned
    trigger: Mapped[str | None] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    definition: Mapped[str | None] = mapped_column(String(80))
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The key that signed this event's HMAC (its public id, never the key); NULL for an unkeyed legacy event.
    key_id: Mapped[str | None] = mapped_column(String(16))
    # The application's version after this event, so `audit verify` can hold the row to its last event.
    app_version: Mapped[int | None]


class AuditHead(Base):
    """The chain's tip, one row, locked by every append so the chain never forks."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class OutboxMessage(Base):
    """A task to send once the transaction that wrote it has committed."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(200))
    kwargs: Mapped[dict[str, Any]]
    application_id: Mapped[int | None] = mapped_column(index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    # A relay that claimed the row owns it until then; after that another relay may resend it.
    claimed_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class IdempotencyRecord(Base):
    """The stored answer to a command, replayed when its key comes again."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("actor_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None]
    key: Mapped[str] = mapped_column(String(200))
    application_id: Mapped[int]
    trigger: Mapped[str] = mapped_column(String(64))
    request_digest: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Deadline(Base):
    """A trigger the system fires if the application is still in a state when time runs out."""

    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    state: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[dt.datetime] = mapped_column(index=True)
    opened_seq: Mapped[int | None] = mapped_column(BigInteger)
    closed_at: Mapped[dt.datetime | None]
    fired_at: Mapped[dt.datetime | None]


class ReferenceCounter(Base):
    """The last number taken in one reference series (programme, year, district): workflow.references."""

    __tablename__ = "reference_counters"

    series: Mapped[str] = mapped_column(String(24), primary_key=True)
    last: Mapped[int]
