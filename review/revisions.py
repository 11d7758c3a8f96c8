"""Revisions: each submission frozen as it stood, and what changed since the revision a reader last read.

`submit`, `resubmit` and `supply` name the effect `record_revision`, which writes revision n+1 in the command's
own transaction. A reviewer's read marker (`RevisionRead`) says how far they have read; `changes_for` diffs the
latest revision against it.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from applications.models import CATEGORIES, Attachment
from review import returns
from review.models import Revision, RevisionRead, SupplementRequest
from workflow.accounts import Actor
from workflow.db import db, table_of, utcnow
from workflow.engine import resolve_actor
from workflow.errors import InvalidInput, NotFound, Problem
from workflow.models import Application
from workflow.registry import Context, effect
from workflow.visibility import visible_or_not_found

_revisions = table_of(Revision)
ADDED, REPLACED, REMOVED = "added", "replaced", "removed"
_CATEGORY_ORDER = {category: n for n, category in enumerate(CATEGORIES)}


# --- the snapshot -----------------------------------------------------------------------------------------------


def attachments_snapshot(session: Session, application_id: int) -> list[dict[str, Any]]:
    """The current version of each category, as a revision keeps it (no bytes: the hash names them)."""
    # The five columns a revision keeps, not the rows as objects: this runs inside fire() on every submission.
    rows = session.execute(
        select(Attachment.id, Attachment.category, Attachment.filename, Attachment.sha256, Attachment.version).where(
            Attachment.application_id == application_id, Attachment.superseded_at.is_(None)
        )
    ).all()
    rows = sorted(rows, key=lambda a: (_CATEGORY_ORDER.get(a.category, len(_CATEGORY_ORDER)), a.category, a.id))
    return [
        {
            "attachment_id": a.id,
            "category": a.category,
            "filename": a.filename,
            "sha256": a.sha256,
            "version": a.version,
        }
        for a in rows
    ]


def _answered_supplement(session: Session, application_id: int, answers: Any) -> dict[str, Any] | None:
    """The supplement request this `supply` answers (the newest one), with each item beside its answer."""
    if not isinstance(answers, dict):
        return None
    request = session.scalars(
        select(SupplementRequest)
        .where(SupplementRequest.application_id == application_id)
        .order_by(SupplementRequest.id.desc())
        .limit(1)
    ).one_or_none()
    if request is None:
        return None
    return {
        "request_id": request.id,
        "due_date": request.due_date.isoformat(),
        "items": [
            {"id": item["id"], "text": item["text"], "answer": str(answers.get(item["id"], ""))}
            for item in request.items
        ],
    }


def next_number(session: Session, application_id: int) -> int:
    current = session.scalar(select(func.max(Revision.number)).where(Revision.application_id == application_id))
    return (current or 0) + 1


@effect("record_revision")
def record_revision(ctx: Context) -> None:
    """Freeze the application as submitted: revision n+1 (the row is locked by fire(), so n+1 is unique)."""
    app = ctx.application
    # Order-free: whether record_supplement_answers ran before or after, the answers come from the command.
    supplement = None
    return_answers = None
    if returns.is_resubmission(ctx.definition, ctx.transition, ctx.from_state):
        return_answers = returns.answered_return(ctx.session, app.id, ctx.payload)
    elif "answers" in ctx.payload:
        supplement = _answered_supplement(ctx.session, app.id, ctx.payload["answers"])
    # A Core INSERT (nothing reads the row back in the command): fire()'s hot path, without the unit of work.
    ctx.session.execute(
        insert(_revisions).values(
            application_id=app.id,
            number=next_number(ctx.session, app.id),
            trigger=ctx.trigger,
            form=copy.deepcopy(dict(app.form or {})),
            attachments=attachments_snapshot(ctx.session, app.id),
            supplement=supplement,
            return_answers=return_answers,
            created_at=utcnow(),
            created_by_id=ctx.actor.id,
            event_seq=ctx.event_seq,
        )
    )


# --- the diff ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Changes:
    """What differs between two revisions: form fields, attachments by category."""

    form: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.form or self.attachments)


def changes_between(old: Revision | None, new: Revision) -> Changes:
    """Form fields whose value differs ({field, before, after}, by key) and attachments added, replaced or
    removed ({category, change, before, after}). `old` None: everything in `new` is new."""
    before_form = old.form if old is not None else {}
    after_form = new.form
    form = [
        {"field": key, "before": before_form.get(key), "after": after_form.get(key)}
        for key in sorted(set(before_form) | set(after_form))
        if before_form.get(key) != after_form.get(key)
    ]
    before = {a["category"]: a for a in (old.attachments if old is not None else [])}
    after = {a["category"]: a for a in new.attachments}
    attachments = []
    order = sorted(set(before) | set(after), key=lambda c: (_CATEGORY_ORDER.get(c, len(_CATEGORY_ORDER)), c))
    for category in order:
        was, now = before.get(category), after.get(category)
        if was is None:
            change = ADDED
        elif now is None:
            change = REMOVED
        # The same bytes uploaded again are no change to read; new bytes (or a new name for them) are.
        elif (was["sha256"], was["filename"]) != (now["sha256"], now["filename"]):
            change = REPLACED
        else:
            continue
        attachments.append({"category": category, "change": change, "before": was, "after": now})
    return Changes(form, attachments)


# --- reading -----------------------------------------------------------------------------------------------------


def _visible(session: Session, actor: Actor, application_id: int) -> Application:
    app = visible_or_not_found(session, actor, application_id)
    return app


def revisions_of(session: Session, actor: Actor, application_id: int) -> list[Revision]:
    """Every revision of an application the actor may see, oldest first."""
    _visible(session, actor, application_id)
    return list(
        session.scalars(
            select(Revision)
            .options(joinedload(Revision.created_by))
            .where(Revision.application_id == application_id)
            .order_by(Revision.number)
        )
    )


def revision(session: Session, actor: Actor, application_id: int, number: int) -> Revision:
    """One revision by number; a missing one (or an application the actor may not see) is not found."""
    _visible(session, actor, application_id)
    found = session.scalars(
        select(Revision)
        .options(joinedload(Revision.created_by))
        .where(Revision.application_id == application_id, Revision.number == number)
    ).one_or_none()
    if found is None:
        raise NotFound(f"application {application_id} has no revision {number}")
    return found


def last_read(session: Session, user_id: int | None, application_id: int) -> RevisionRead | None:
    if user_id is None:
        return None
    return session.scalars(
        select(RevisionRead).where(RevisionRead.user_id == user_id, RevisionRead.application_id == application_id)
    ).one_or_none()


@dataclass(frozen=True)
class ChangeReport:
    """The latest revision against revision `since` (0: nothing read, everything is new)."""

    since: int
    latest: int
    changes: Changes
    # The supplement answers submitted after `since`, newest last: {"revision", "items": [{id, text, answer}]}.
    supplements: list[dict[str, Any]]


def _since_problem(since: int, latest: int) -> InvalidInput:
    message = f"'since' is a revision from 0 to {latest} (the latest); got {since}"
    return InvalidInput(message, [Problem("since", "invalid", message)])


def changes_for(session: Session, actor: Actor, application_id: int, since: int | None = None) -> ChangeReport:
    """What changed since revision `since`; by default since the revision the actor last marked read."""
    revisions = revisions_of(session, actor, application_id)
    latest = revisions[-1].number if revisions else 0
    if since is None:
        marker = last_read(session, actor.id, application_id)
        since = min(marker.number, latest) if marker is not None else 0
    if since < 0 or since > latest:
        raise _since_problem(since, latest)
    if since == latest:
        return ChangeReport(since, latest, Changes(), [])
    by_number = {r.number: r for r in revisions}
    newer = [r for r in revisions if r.number > since]
    supplements = [{"revision": r.number, **r.supplement} for r in newer if r.supplement]
    return ChangeReport(since, latest, changes_between(by_number.get(since), by_number[latest]), supplements)


# --- the read marker ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadMarker:
    number: int
    read_at: dt.datetime


def mark_read(actor_id: int, application_id: int, number: int) -> ReadMarker:
    """Record that the actor has read up to revision `number`, in its own transaction; never moves backwards."""
    with db.transaction() as session:
        actor = resolve_actor(session, actor_id)
        _visible(session, actor, application_id)
        latest = session.scalar(select(func.max(Revision.number)).where(Revision.application_id == application_id))
        if number < 1 or number > (latest or 0):
            message = (
                f"revision is from 1 to {latest} (the latest)"
                if latest
                else "the application has no revision yet: it has not been submitted"
            ) + f"; got {number}"
            raise InvalidInput(message, [Problem("revision", "invalid", message)])
        marker = last_read(session, actor.id, application_id)
        if marker is None:
            try:
                with session.begin_nested():  # a second tab of the same reader may insert first
                    marker = RevisionRead(user_id=actor.id, application_id=application_id, number=number)
                    session.add(marker)
            except IntegrityError:
                marker = last_read(session, actor.id, application_id)
                assert marker is not None
        if number > marker.number:
            marker.number = number
            marker.read_at = utcnow()
        session.flush()
        return ReadMarker(marker.number, marker.read_at)


def answered_points(row: Revision) -> dict[str, Any] | None:
    """The points `row` answered, each beside its answer: {"kind": "return" | "supplement", "revision", "items"}
    (a resubmission's answers to a return's points, or a supply's to a supplement request's items)."""
    if row.return_answers:
        return {"kind": "return", "revision": row.number, **row.return_answers}
    if row.supplement:
        return {"kind": "supplement", "revision": row.number, **row.supplement}
    return None


@dataclass(frozen=True)
class ReaderView:
    """What a reviewer opening the application is shown: the changes they have not read, and the points the
    latest revision answered (shown whether or not it has been read: the reviewer decides on them)."""

    report: ChangeReport
    read_before: bool  # False: the reader had read no revision, so `report` runs from the previous submission
    answered: dict[str, Any] | None


def reader_view(session: Session, actor: Actor, application_id: int) -> ReaderView:
    """Changes since the revision the reader last read; one who has read none sees those since the previous
    submission (everything, if there is only one), not the whole application as new."""
    rows = revisions_of(session, actor, application_id)
    latest = rows[-1] if rows else None
    marker = last_read(session, actor.id, application_id)
    if marker is not None:
        report = changes_for(session, actor, application_id)
    else:
        report = changes_for(session, actor, application_id, since=max((latest.number if latest else 0) - 1, 0))
    answered = answered_points(latest) if latest is not None else None
    if answered is not None and not any(str(i.get("answer") or "").strip() for i in answered["items"]):
        answered = None  # resubmitted without answers (an API client of the published versions): nothing to show
    return ReaderView(report, marker is not None, answered)
