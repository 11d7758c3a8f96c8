"""Review desks' records: pre-review, completeness, supplements, revisions, the expert panel and its sheets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, Numeric, String, Text, UniqueConstraint
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


class ReturnRequest(Base):
    """A return to the applicant (退回修改): the points to correct, answered point by point when resubmitting."""

    __tablename__ = "return_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(64))  # the return's trigger (return_for_correction)
    # [{"id": "1", "text": "..."}] like a supplement request's: answers come back keyed by item id.
    items: Mapped[list[Any]]
    comment: Mapped[str] = mapped_column(Text, default="")
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    returned_seq: Mapped[int | None] = mapped_column(BigInteger)
    returned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Set by the resubmission: {} when it came without answers (an API client of the published versions).
    answers: Mapped[dict[str, Any] | None]
    answered_at: Mapped[dt.datetime | None]
    answered_seq: Mapped[int | None] = mapped_column(BigInteger)


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
    # resubmit after a return only: {"return_id", "trigger", "items": [{"id", "text", "answer"}]}.
    return_answers: Mapped[dict[str, Any] | None]
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


class PreReview(Base):
    """A district reviewer's record of one decision: what was checked, the opinion, the points or reasons."""

    __tablename__ = "prereviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(64))  # the trigger: pass_prereview | return_for_correction | reject
    # {"form_authenticity": "ok" | "problem" | "not_checked", "legal_entity": …, "operations": …, "finances": …}
    checks: Mapped[dict[str, Any]]
    opinion: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[list[Any]]  # the points to correct (return) or the reasons (reject)
    event_seq: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    reviewer: Mapped[User | None] = relationship()


class CompletenessReview(Base):
    """The municipal reviewer's per-document checklist at one decision (request, confirm or reject)."""

    __tablename__ = "completeness_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(64))
    # [{"id", "text", "status": "present" | "missing" | "insufficient", "note"}]
    items: Mapped[list[Any]]
    event_seq: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ExpertProfile(Base):
    """An expert in the pool: employer (for conflicts), district and specialities."""

    __tablename__ = "expert_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    employer_uscc: Mapped[str] = mapped_column(String(18), index=True)
    employer_name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str | None] = mapped_column(String(16))
    specialities: Mapped[list[Any]]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class ExpertRelationship(Base):
    """A tie an expert has declared with an organisation (former employer, family, adviser): never drawn for it."""

    __tablename__ = "expert_relationships"
    __table_args__ = (UniqueConstraint("expert_id", "uscc"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PanelDraw(Base):
    """One draw of experts for an application: the seed and the pool snapshot reproduce it exactly."""

    __tablename__ = "panel_draws"
    __table_args__ = (UniqueConstraint("application_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    number: Mapped[int]  # 1, 2, … per application
    reason: Mapped[str] = mapped_column(String(16))  # initial | replacement | refill (seats a conflict left empty)
    seed: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    # The eligible experts, sorted by username: [{"user_id", "username", "employer_uscc", "district", …}].
    pool: Mapped[list[Any]]
    pool_digest: Mapped[str] = mapped_column(String(64))
    # Who was left out, and why: [{"username", "reasons": ["same_employer", …]}].
    excluded: Mapped[list[Any]]
    drawn: Mapped[list[Any]]  # usernames in draw order; the first of an initial draw leads
    replaced_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    event_seq: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SiteVisit(Base):
    """When and where the panel visits the applicant (rescheduling updates it; the audit keeps each version)."""

    __tablename__ = "site_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    visit_at: Mapped[dt.datetime]
    place: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(Text, default="")
    scheduled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scheduled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Seed 002 §五(二): what the panel noted at (1) 汇报与现场演示 and (2) 勘察提问 (review.site_visit).
    presentation_notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    inspection_notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    steps_noted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    steps_noted_at: Mapped[dt.datetime | None]

    steps_noted_by: Mapped[User | None] = relationship(foreign_keys=[steps_noted_by_id])


class ChecklistSheet(Base):
    """One expert's own sheet of the checklist for one application; signed and locked on submit."""

    __tablename__ = "checklist_sheets"
    __table_args__ = (UniqueConstraint("application_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    checklist: Mapped[str] = mapped_column(String(80))  # e.g. emc-checklist-enterprise@1
    submitted_at: Mapped[dt.datetime | None]
    signed_name: Mapped[str | None] = mapped_column(String(200))
    signature_key: Mapped[str | None] = mapped_column(String(200))  # PNG in the blob store
    signature_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    expert: Mapped[User] = relationship()


class ChecklistAnswer(Base):
    """An expert's result for one criterion; `revision` rises with each change so a stale sync is caught."""

    __tablename__ = "checklist_answers"
    __table_args__ = (UniqueConstraint("sheet_id", "criterion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("checklist_sheets.id"))
    criterion: Mapped[str] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(String(16))  # conform | nonconform | not_applicable
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    note: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(default=1)
    changed_at: Mapped[dt.datetime | None]  # when the expert changed it (the device's clock)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ChecklistPhoto(Base):
    """Photo evidence for one criterion, taken on site; `client_id` makes an offline upload idempotent."""

    __tablename__ = "checklist_photos"
    __table_args__ = (UniqueConstraint("sheet_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("checklist_sheets.id"), index=True)
    criterion: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[str] = mapped_column(String(64))
    blob_key: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    taken_at: Mapped[dt.datetime | None]
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PanelConclusion(Base):
    """The panel's conclusion as the leader recorded it, with the consensus it was drawn from (dissent kept)."""

    __tablename__ = "panel_conclusions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    result: Mapped[str] = mapped_column(String(8))  # pass | fail
    reasons: Mapped[str] = mapped_column(Text)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    consensus: Mapped[dict[str, Any]]
    event_seq: Mapped[int | None] = mapped_column(BigInteger)
    concluded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class KeyEnergyUnit(Base):
    """One unit on a year's key energy-using unit list (重点用能（排放）单位名单, seed 000 §二(一)), as imported."""

    __tablename__ = "key_energy_units"
    # The unique constraint leads with uscc, so it serves the guard's lookup by (uscc, year) too.
    __table_args__ = (UniqueConstraint("uscc", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(index=True)
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(64))  # the account's username, or "system" (the CLI)


MONEY = Numeric(14, 2)  # yuan and fen


class Budget(Base):
    """A programme's budget for a year: what proposals hold (reserved), approvals promise (committed) and payments
    spent (paid). The database itself refuses a row that spends more than the budget, whatever races above it."""

    __tablename__ = "budgets"
    __table_args__ = (
        UniqueConstraint("programme", "year"),
        CheckConstraint("reserved >= 0 AND committed >= 0 AND paid >= 0", name="not_negative"),
        CheckConstraint("reserved + committed + paid <= amount", name="within_budget"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme: Mapped[str] = mapped_column(String(64))
    year: Mapped[int]
    amount: Mapped[Decimal] = mapped_column(MONEY)
    reserved: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0), server_default="0")
    committed: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0), server_default="0")
    paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0), server_default="0")
    set_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Award(Base):
    """A proposed award and what became of it: the amount, the amount the programme's rule computes, how, and the
    officer's reason for proposing less. Status: proposed, approved, sent_back, paid."""

    __tablename__ = "awards"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    computed: Mapped[Decimal] = mapped_column(MONEY)
    basis: Mapped[dict[str, Any]]  # the rule, the eligible investment per category, the arithmetic
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposed_seq: Mapped[int | None] = mapped_column(BigInteger)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_seq: Mapped[int | None] = mapped_column(BigInteger)
    proposed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Payment(Base):
    """The one payment of an approved award: its amount (the award's), value date and bank reference."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), unique=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    value_date: Mapped[dt.date]
    bank_reference: Mapped[str] = mapped_column(String(64))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    event_seq: Mapped[int | None] = mapped_column(BigInteger)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
