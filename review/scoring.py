"""Each expert's own checklist sheet: results per criterion, photo evidence, the signed submission.

A sync from a tablet that was offline carries, per criterion, the revision it started from; an answer that
changed on the server since then is not overwritten but returned as a conflict for the expert to settle.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms.fields import form_version
from review import evidence, site_visit
from review.checklists import RESULTS, Checklist, for_application
from review.models import ChecklistAnswer, ChecklistPhoto, ChecklistSheet
from review.seats import PANEL_STATE, member_of
from storage.blobs import BlobStore
from storage.multipart import blob_key
from storage.sniff import PNG, sniff
from workflow import audit
from workflow.accounts import Actor
from workflow.db import as_utc, db, utcnow
from workflow.engine import resolve_actor
from workflow.errors import InvalidInput, NotAllowedNow, NotFound, Problem, WorkflowError
from workflow.models import Application, Assignment
from workflow.visibility import get_visible, programme_definitions

SCORING_STATE = PANEL_STATE  # the sheets are filled during site verification
SIGNATURE_MAX_BYTES = 2 * 1024 * 1024
NOTE_MAX = 4000
CENTS = Decimal("0.01")
MAX_RESULTS = 200  # per save; a checklist has fewer than 20 criteria
# What one result may carry (a typo must not pass as "no result" and clear the answer).
FIELDS = ("criterion", "result", "score", "note", "base_revision", "changed_at")
EXPECTED = ", ".join(FIELDS)


class SheetSubmitted(WorkflowError):
    status = 409
    code = "sheet_submitted"
    title = "Sheet already submitted"


@dataclass
class SheetContext:
    application: Application
    checklist: Checklist
    sheet: ChecklistSheet
    assignment: Assignment


@dataclass
class SaveOutcome:
    saved: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # [{"criterion", "yours": {...}, "theirs": {... "revision"}}]: not saved, for the expert to settle.
    conflicts: list[dict[str, Any]] = field(default_factory=list)


def open_sheet(session: Session, actor: Actor, application_id: int, *, lock: bool = False) -> SheetContext:
    """The actor's own sheet for an application they sit on; 404 for anyone else.

    With `lock` (every change) the sheet is created on first use; a read gets an unsaved blank one, so looking
    writes nothing (and two first looks cannot race to insert the same sheet).
    """
    definitions = programme_definitions(session)
    app = get_visible(session, actor, application_id, lock=lock, definitions=definitions)
    assignment = member_of(session, application_id, actor.id) if app is not None else None
    checklist = for_application(definitions[app.programme_version_id], app.kind) if app is not None else None
    if app is None or assignment is None or checklist is None:
        raise NotFound(f"application {application_id} not found")
    query = select(ChecklistSheet).where(ChecklistSheet.application_id == app.id, ChecklistSheet.expert_id == actor.id)
    sheet = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if sheet is None:
        sheet = ChecklistSheet(application_id=app.id, expert_id=actor.id, checklist=checklist.ref)
        if lock:
            session.add(sheet)
            session.flush()
    return SheetContext(app, checklist, sheet, assignment)


def answers_of(session: Session, sheet_id: int | None) -> dict[str, ChecklistAnswer]:
    if sheet_id is None:
        return {}
    rows = session.scalars(select(ChecklistAnswer).where(ChecklistAnswer.sheet_id == sheet_id))
    return {row.criterion: row for row in rows}


def photos_of(session: Session, sheet_id: int | None) -> list[ChecklistPhoto]:
    if sheet_id is None:
        return []
    return list(
        session.scalars(select(ChecklistPhoto).where(ChecklistPhoto.sheet_id == sheet_id).order_by(ChecklistPhoto.id))
    )


def not_applicable_refused(field_name: str, criterion: str) -> Problem:
    return Problem(
        field_name,
        "not_applicable_not_allowed",
        f"第{criterion}项不能记为“不适用”：须逐项判定符合或不符合（criterion {criterion} may not be not applicable）",
    )


def missing_results(checklist: Checklist, kind: str, answers: dict[str, ChecklistAnswer]) -> list[str]:
    """Criteria of this applicant kind without a result yet, in the table's order."""
    return [c.id for c in checklist.criteria_for(kind) if not (answers.get(c.id) and answers[c.id].result)]


def answer_json(answer: ChecklistAnswer | None) -> dict[str, Any]:
    if answer is None:
        return {"result": None, "score": None, "note": "", "revision": 0, "changed_at": None}
    return {
        "result": answer.result,
        "score": str(answer.score) if answer.score is not None else None,
        "note": answer.note,
        "revision": answer.revision,
        "changed_at": as_utc(answer.changed_at).isoformat() if answer.changed_at else None,
    }


def photo_json(photo: ChecklistPhoto) -> dict[str, Any]:
    return {
        "id": photo.id,
        "criterion": photo.criterion,
        "client_id": photo.client_id,
        "content_type": photo.content_type,
        "size": photo.size,
        "sha256": photo.sha256,
        "taken_at": as_utc(photo.taken_at).isoformat() if photo.taken_at else None,
        "latitude": photo.latitude,
        "longitude": photo.longitude,
        "accuracy_m": photo.accuracy_m,
    }


def weighted_score(checklist: Checklist, kind: str, answers: dict[str, ChecklistAnswer]) -> str | None:
    """Σ score × weight over the scored criteria (the checklist's configurable weights); None if nothing is scored."""
    total, any_scored = Decimal(0), False
    for criterion in checklist.criteria_for(kind):
        answer = answers.get(criterion.id)
        if answer is not None and answer.score is not None:
            total += answer.score * Decimal(str(criterion.weight))
            any_scored = True
    return str(total.quantize(Decimal("0.01"))) if any_scored else None


def sheet_json(session: Session, ctx: SheetContext, lang: str = "zh") -> dict[str, Any]:
    """The checklist with this expert's own results: what the tablet and GET /checklist show."""
    answers = answers_of(session, ctx.sheet.id)
    photos: dict[str, list[dict[str, Any]]] = {}
    for photo in photos_of(session, ctx.sheet.id):
        photos.setdefault(photo.criterion, []).append(photo_json(photo))
    kind = ctx.application.kind
    claimed = claims_of(session, ctx)
    beside = evidence.Beside(session, ctx.application.id)
    categories = []
    for cat in ctx.checklist.categories:
        criteria = [
            {
                "id": c.id,
                "text": c.text,
                "weight": c.weight,
                "max_score": ctx.checklist.scale(c),
                "not_applicable_allowed": c.not_applicable,
                "claims": claimed.get(c.id, []),
                # The latest evidence snapshot's figure beside the criterion it supports (None before one is taken).
                "evidence": beside.of(c),
                **answer_json(answers.get(c.id)),
                "photos": photos.get(c.id, []),
            }
            for c in cat.criteria
            if c.applies(kind)
        ]
        title = cat.title if lang == "zh" else cat.title_en
        categories.append(
            {"id": cat.id, "title": title, "preamble": cat.preamble, "rule": cat.rule, "criteria": criteria}
        )
    missing = missing_results(ctx.checklist, kind, answers)
    return {
        "application_id": ctx.application.id,
        "checklist": {
            "ref": ctx.checklist.ref,
            "annex": ctx.checklist.annex,
            "title": ctx.checklist.title if lang == "zh" else ctx.checklist.title_en,
            "group": ctx.checklist.group,
        },
        "results": {key: {"zh": zh, "en": en} for key, (zh, en) in RESULTS.items()},
        "categories": categories,
        "leader": ctx.assignment.is_leader,
        "complete": not missing,
        "weighted_score": weighted_score(ctx.checklist, kind, answers),
        "missing": missing,
        "submitted_at": as_utc(ctx.sheet.submitted_at).isoformat() if ctx.sheet.submitted_at else None,
        "signed_name": ctx.sheet.signed_name,
        "scale_is_local": True,  # seed 002 gives results, not scores: the scale is a local setting
        "visit": site_visit.opening(session, ctx.application.id),
    }


def claims_of(session: Session, ctx: SheetContext) -> dict[str, list[dict[str, Any]]]:
    """Per criterion, what the application's form claims for it (label and value as shown), in the form's language."""
    wanted = {c.id: c.claims for c in ctx.checklist.criteria_for(ctx.application.kind) if c.claims}
    if not wanted:
        return {}
    definition = programme_definitions(session)[ctx.application.programme_version_id]
    fields = {f.key: f for f in form_version(definition.form).fields_for(ctx.application.kind)}
    form = ctx.application.form or {}
    out: dict[str, list[dict[str, Any]]] = {}
    for criterion, keys in wanted.items():
        out[criterion] = [
            {"field": key, "label": fields[key].zh, "label_en": fields[key].en, "value": fields[key].shown(form[key])}
            for key in keys
            if key in fields and form.get(key) not in (None, "", [])
        ]
    return out


def check_open(session: Session, ctx: SheetContext) -> None:
    """The sheet takes changes: not yet signed, the application in site verification, the visit's day come."""
    if ctx.sheet.submitted_at is not None:
        raise SheetSubmitted(f"your sheet for application {ctx.application.id} is signed and submitted; it is final")
    if ctx.application.state != SCORING_STATE:
        message = (
            f"the checklist is scored only in state {SCORING_STATE}; the application is in '{ctx.application.state}'"
        )
        raise NotAllowedNow(message, ctx.application.state, [])
    closed = site_visit.not_open_yet(session, ctx.application.id)
    if closed is not None:
        raise site_visit.BeforeVisitDay(closed.message, [closed])


def _parse_result(i: int, raw: Any, ctx: SheetContext) -> tuple[dict[str, Any], list[Problem]]:
    where = f"results[{i}]"
    if not isinstance(raw, dict):
        return {}, [Problem(where, "invalid", "each result is an object {criterion, result, score, note}")]
    problems = [
        Problem(f"{where}.{name}", "unknown_field", f"'{name}' is not a field of a result; expected: {EXPECTED}")
        for name in raw
        if name not in FIELDS
    ]
    criterion = str(raw.get("criterion", ""))
    known = ctx.checklist.by_id.get(criterion)
    if known is None or not known.applies(ctx.application.kind):
        problems.append(
            Problem(
                f"{where}.criterion",
                "unknown_criterion",
                f"'{criterion}' is not a criterion of {ctx.checklist.ref} here",
            )
        )
    result = raw.get("result")
    if result is not None and (not isinstance(result, str) or result not in RESULTS):
        problems.append(
            Problem(f"{where}.result", "invalid_result", f"result '{result}' is not one of {', '.join(RESULTS)}")
        )
    elif result == "not_applicable" and known is not None and not known.not_applicable:
        problems.append(not_applicable_refused(f"{where}.result", known.id))
    score: Decimal | None = None
    if raw.get("score") not in (None, ""):
        try:
            score = Decimal(str(raw["score"]))
            if not score.is_finite() or score < 0 or score >= 10000 or score != round(score, 2):
                raise InvalidOperation
            score = score.quantize(CENTS)  # as the column keeps it: "3.5" reads back "3.50"
            scale = Decimal(str(ctx.checklist.scale(known))) if known is not None else None
            if scale is not None and score > scale:
                problems.append(
                    Problem(
                        f"{where}.score",
                        "above_maximum",
                        f"第{known.id}项的评分 {score} 超出该项分值范围 0–{scale.normalize():f}"  # type: ignore[union-attr]
                        f"（score {score} is above the scale 0–{scale.normalize():f}）",
                    )
                )
        except (InvalidOperation, ValueError):
            problems.append(
                Problem(
                    f"{where}.score",
                    "invalid_score",
                    f"score '{raw['score']}' must be a number from 0 with at most 2 decimals",
                )
            )
            score = None
    note = raw.get("note") or ""
    if not isinstance(note, str) or len(note) > NOTE_MAX:
        problems.append(Problem(f"{where}.note", "invalid_note", f"note must be text of at most {NOTE_MAX} characters"))
        note = ""
    base = raw.get("base_revision")
    if base is not None and (not isinstance(base, int) or isinstance(base, bool) or base < 0):
        problems.append(
            Problem(
                f"{where}.base_revision", "invalid", "base_revision must be the revision number the change started from"
            )
        )
        base = None
    changed_at = None
    if raw.get("changed_at"):
        try:
            changed_at = as_utc(dt.datetime.fromisoformat(str(raw["changed_at"]).replace("Z", "+00:00")))
        except ValueError:
            problems.append(
                Problem(f"{where}.changed_at", "invalid_time", f"changed_at '{raw['changed_at']}' is not an ISO time")
            )
    parsed = {
        "criterion": criterion,
        "result": result,
        "score": score,
        "note": note.strip(),
        "base": base,
        "changed_at": changed_at,
    }
    return parsed, problems


def save_answers(
    actor: Actor | int, application_id: int, results: Any, request_id: str | None = None, *, lang: str = "zh"
) -> tuple[SaveOutcome, dict[str, Any]]:
    """Record some of the expert's results; a change based on an older revision than the server's is a conflict."""
    if not isinstance(results, list) or not results or len(results) > MAX_RESULTS:
        raise InvalidInput(
            "results must be a non-empty list",
            [
                Problem(
                    "results",
                    "required",
                    f"send results: [{{criterion, result, score, note}}], at most {MAX_RESULTS} at a time",
                )
            ],
        )
    with db.transaction() as session:
        who = resolve_actor(session, actor)
        ctx = open_sheet(session, who, application_id, lock=True)
        check_open(session, ctx)
        parsed, problems = [], []
        seen: set[str] = set()
        for i, raw in enumerate(results):
            item, found = _parse_result(i, raw, ctx)
            if item and item["criterion"] in seen:
                found.append(
                    Problem(f"results[{i}].criterion", "duplicate", f"criterion {item['criterion']} appears twice")
                )
            seen.add(item.get("criterion", ""))
            parsed.append(item)
            problems.extend(found)
        if problems:
            raise InvalidInput("; ".join(p.message for p in problems), problems)
        answers = answers_of(session, ctx.sheet.id)
        outcome = SaveOutcome()
        now = utcnow()
        for item in parsed:
            current = answers.get(item["criterion"])
            values = (item["result"], item["score"], item["note"])
            if current is not None and (current.result, current.score, current.note) == values:
                outcome.unchanged.append(item["criterion"])
                continue
            if current is not None and item["base"] is not None and item["base"] < current.revision:
                yours = {
                    "result": item["result"],
                    "score": str(item["score"]) if item["score"] is not None else None,
                    "note": item["note"],
                    "base_revision": item["base"],
                }
                outcome.conflicts.append(
                    {"criterion": item["criterion"], "yours": yours, "theirs": answer_json(current)}
                )
                continue
            if current is None:
                current = ChecklistAnswer(sheet_id=ctx.sheet.id, criterion=item["criterion"], revision=0)
                session.add(current)
                answers[item["criterion"]] = current
            current.result, current.score, current.note = values
            current.revision += 1
            current.changed_at = item["changed_at"] or now
            current.updated_at = now
            outcome.saved.append(item["criterion"])
        if outcome.saved:
            ctx.sheet.updated_at = now
            session.flush()
            audit.note(
                session,
                who,
                ctx.application,
                "scored",
                payload={
                    "criteria": {c: answers[c].result for c in outcome.saved},
                    "conflicts": [c["criterion"] for c in outcome.conflicts],
                },
                request_id=request_id,
            )
        return outcome, sheet_json(session, ctx, lang)


def submit_sheet(
    actor: Actor | int,
    application_id: int,
    signature_png: bytes,
    signed_name: str,
    confirm: bool,
    store: BlobStore,
    request_id: str | None = None,
    *,
    lang: str = "zh",
) -> dict[str, Any]:
    """Sign and submit the expert's own sheet: every criterion needs a result; the sheet is final after."""
    with db.transaction() as session:
        who = resolve_actor(session, actor)
        ctx = open_sheet(session, who, application_id, lock=True)
        check_open(session, ctx)
        answers = answers_of(session, ctx.sheet.id)
        problems = [
            Problem(f"results.{c}", "no_result", f"criterion {c} has no result yet")
            for c in missing_results(ctx.checklist, ctx.application.kind, answers)
        ]
        problems += [
            not_applicable_refused(f"results.{c.id}", c.id)
            for c in ctx.checklist.criteria_for(ctx.application.kind)
            if not c.not_applicable and answers.get(c.id) and answers[c.id].result == "not_applicable"
        ]
        if confirm is not True:
            problems.append(Problem("confirm", "required", "confirm that the results are your own findings"))
        if not isinstance(signed_name, str) or not signed_name.strip() or len(signed_name) > 200:
            problems.append(Problem("signed_name", "required", "type your name as you sign"))
        if not signature_png:
            problems.append(Problem("signature", "required", "draw your signature"))
        elif len(signature_png) > SIGNATURE_MAX_BYTES:
            problems.append(
                Problem("signature", "too_large", f"the signature image is over {SIGNATURE_MAX_BYTES} bytes")
            )
        elif sniff(io.BytesIO(signature_png)) is not PNG:
            problems.append(Problem("signature", "type_not_allowed", "the signature must be a PNG image"))
        if problems:
            raise InvalidInput("; ".join(p.message for p in problems), problems)
        sha = hashlib.sha256(signature_png).hexdigest()
        key = blob_key(sha)
        if not store.exists(key):
            store.put(key, io.BytesIO(signature_png), PNG.content_type)
        ctx.sheet.signature_key, ctx.sheet.signature_sha256 = key, sha
        ctx.sheet.signed_name = signed_name.strip()
        ctx.sheet.submitted_at = utcnow()
        session.flush()
        audit.note(
            session,
            who,
            ctx.application,
            "sheet_submitted",
            payload={"checklist": ctx.checklist.ref, "signature_sha256": sha, "signed_name": ctx.sheet.signed_name},
            request_id=request_id,
        )
        return sheet_json(session, ctx, lang)


def view_sheet(actor: Actor | int, application_id: int, lang: str = "zh") -> dict[str, Any]:
    """The expert's own sheet as it stands (a read: nothing is written)."""
    with db.transaction() as session:
        ctx = open_sheet(session, resolve_actor(session, actor), application_id)
        return sheet_json(session, ctx, lang)
