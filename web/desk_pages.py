"""Review desks: each desk's queue (page and JSON), the district pre-review and completeness-check cards.

The decisions themselves post to the generic transition view (page) or POST …/transitions (API); this module
shows what waits, builds the cards' one-form-many-buttons, and serves the records as JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from review import completeness, prereview, queues
from review.models import CompletenessReview, PreReview, SupplementRequest
from web.api import _user, _visible_or_404
from web.api import bp as api_bp
from web.page_forms import FINDING_LABELS, N_, STATUS_LABELS, TransitionForm, card_form, card_of, posted_card_form
from web.pages import CAUTION_TRIGGERS, bp, detail_section, kind_label, lang, local_time, me
from workflow.accounts import User
from workflow.db import db, iso_utc, utcnow
from workflow.definitions import Definition
from workflow.engine import allowed_triggers
from workflow.errors import InvalidInput, Problem
from workflow.models import Application
from workflow.visibility import current_definitions, programme_definitions

# --- the queue's parameters (page and API alike) -------------------------------------------------------------------


def desk_params(args: MultiDict[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    """The queue's filters, sort and page from query parameters, and every one it cannot take."""
    sort = args.get("sort") or "waiting"
    params: dict[str, Any] = {
        "kind": args.get("kind") or None,
        "district": args.get("district") or None,
        "programme": args.get("programme") or None,
        "sort": sort,
        # Longest waiting first; a column A to Z.
        "order": args.get("order") or ("desc" if sort == "waiting" else "asc"),
        "waiting_on": args.get("waiting_on") or "desk",
    }
    problems = []
    for name, default in (("page", 1), ("per_page", 25)):
        raw = args.get(name) or ""
        if not raw:
            params[name] = default
        elif raw.isascii() and raw.isdigit() and len(raw) <= 9:  # int() of 5,000 digits raises; the queue bounds it
            params[name] = int(raw)
        else:
            params[name] = default
            problems.append(Problem(name, "invalid", f"'{name}' is a whole number; got {raw!r}"))
    problems += queues.check_params(programme_definitions(db.session), **params)
    return params, problems


# --- the desk page -------------------------------------------------------------------------------------------------

SORT_LABELS = {"waiting": N_("Waiting time"), "kind": N_("Applicant kind"), "district": N_("District")}
PARAM_DEFAULTS: dict[str, Any] = {
    "kind": None,
    "district": None,
    "programme": None,
    "sort": "waiting",
    "order": "desc",
    "waiting_on": "desk",
    "page": 1,
    "per_page": 25,
}


@bp.route("/desk")
@login_required
def desk() -> Any:
    """What waits on the reader's desk, longest waiting first; filters and sorting as query parameters."""
    params, problems = desk_params(request.args)
    for problem in problems:  # a page shows what it can: a value it cannot take falls back to the default
        params[problem.field] = PARAM_DEFAULTS[problem.field]
        if problem.field == "order" and params["sort"] != "waiting":
            params["order"] = "asc"
    queue = queues.desk_queue(db.session, me(), **params)
    definitions = programme_definitions(db.session)
    choices = queues.filter_choices(definitions)
    titles = {code: d.title.get(lang()) or code for code, d in current_definitions(definitions).items()}
    rows = [
        {
            "id": row.id,
            "url": url_for(".application", application_id=row.id),
            "project_name": row.project_name,
            "organisation": row.organisation,
            "kind": kind_label(row.kind),
            "district": row.district or "",
            "programme": titles.get(row.programme, row.programme),
            "state": row.state,
            "state_label": row.definition.state_label(row.state, lang()),
            "since": local_time(row.waiting_since),
            "days": row.waiting_days,
            "waiting_for": row.waiting_for.label(lang()),
            "due": row.due_date.isoformat() if row.due_date else None,
        }
        for row in queue.rows
    ]
    shown = {k: v for k, v in params.items() if k != "page" and v != PARAM_DEFAULTS[k]}

    def page_url(**changes: Any) -> str:
        return url_for(".desk", **{**shown, **changes})

    last_page = (queue.total + queue.per_page - 1) // queue.per_page
    return render_template(
        "desk.html",
        queue=queue,
        rows=rows,
        params=params,
        undeclared=[
            {
                "project_name": u.project_name,
                "organisation": u.organisation,
                "district": u.district or "",
                "assigned": local_time(u.assigned_at),
            }
            for u in queue.undeclared
        ],
        tabs=[
            {
                "label": gettext("Waiting for me") if view == "desk" else gettext("Waiting for the applicant"),
                "count": count,
                "url": page_url(waiting_on=view, page=None),
                "current": view == queue.waiting_on,
            }
            for view, count in queue.counts.items()
        ],
        kinds=[(k, kind_label(k)) for k in choices["kind"]],
        districts=choices["district"],
        programmes=[(code, titles.get(code, code)) for code in choices["programme"]],
        sorts=[(key, gettext(label)) for key, label in SORT_LABELS.items()],
        previous_url=page_url(page=queue.page - 1) if queue.page > 1 else None,
        next_url=page_url(page=queue.page + 1) if queue.page < last_page else None,
    )


@bp.app_context_processor
def _desk_link() -> dict[str, Any]:
    """Whether the menu should link the reader's review desk (for base.html)."""
    return {"has_desk": current_user.is_authenticated and current_user.role in queues.DESKS}


# --- the cards on the detail page ------------------------------------------------------------------------------------


def _decisions(app: Application, definition: Definition, user: User, card: str) -> list[dict[str, Any]]:
    """The card's decisions the reader may take now, the ones that move the application on first."""
    triggers = [
        t
        for t in allowed_triggers(db.session, app, user, definition)
        if card_of(definition.transition(t, app.state)) == card
    ]
    return [
        {
            "trigger": t,
            "label": definition.trigger_label(t, lang()),
            "caution": t in CAUTION_TRIGGERS,
            "url": url_for("pages.transition", application_id=app.id, trigger=t),
        }
        for t in sorted(triggers, key=lambda t: t in CAUTION_TRIGGERS)
    ]


def _card_form(
    card: str,
    app: Application,
    definition: Definition,
    decisions: list[dict[str, Any]],
    checklist: list[dict[str, Any]] | None = None,
) -> tuple[TransitionForm, bool]:
    """The card's one form; after a refused decision, with the person's input and the reasons beside it."""
    specs = [t for t in (definition.transition(d["trigger"], app.state) for d in decisions) if t is not None]
    posted = posted_card_form(card)
    if posted is None:
        form = card_form(card, specs, checklist, formdata=None)
        form.expected_version.data = app.version
        return form, False
    form = card_form(card, specs, checklist)  # bound to what was posted: the person's input stays
    for field in form:
        field.errors = list(posted[field.short_name].errors) if field.short_name in posted else []
    return form, True


@detail_section("prereview")
def prereview_card(app: Application, definition: Definition, user: User) -> dict[str, Any] | None:
    """The district pre-review: the four checks, opinion and points with three decisions; the records so far."""
    applicant = user.role == "applicant"
    # The applicant sees what to correct (returns) and why it was refused (rejections); never the checks.
    records = prereview.records(db.session, app.id, applicant=applicant, definition=definition)
    decisions = _decisions(app, definition, user, "prereview")
    if not decisions and not records:
        return None
    form = None
    if decisions:
        form, _ = _card_form("prereview", app, definition, decisions)
    return {
        "form": form,
        "checks": [form[name] for name, _ in form.check_fields] if form else [],
        "decisions": decisions,
        "claimed_triggers": [d["trigger"] for d in decisions],
        "records": [_prereview_view(r, definition, applicant) for r in reversed(records)],
        "applicant": applicant,
    }


def _prereview_view(record: PreReview, definition: Definition, applicant: bool) -> dict[str, Any]:
    checks = []
    if not applicant:
        for name, (zh, en) in prereview.CHECKS.items():
            finding = (record.checks or {}).get(name, "not_checked")
            checks.append(
                {
                    "label": zh if lang() == "zh" else en,
                    "finding": finding,
                    "text": FINDING_LABELS.get(finding, finding),
                }
            )
    reviewer = record.reviewer
    return {
        "decision": record.decision,
        "label": definition.trigger_label(record.decision, lang()),
        "time": local_time(record.created_at),
        "reviewer": None if applicant or reviewer is None else (reviewer.display_name or reviewer.username),
        "checks": checks,
        "opinion": record.opinion,
        "points": list(record.points or []),
    }


@detail_section("completeness")
def completeness_card(app: Application, definition: Definition, user: User) -> dict[str, Any] | None:
    """The completeness check: each required document with its status and note, three decisions, the
    supplement requests with the applicant's answers."""
    applicant = user.role == "applicant"
    requests = completeness.supplement_requests(db.session, app.id)
    review = None if applicant else completeness.latest_review(db.session, app.id)
    decisions = _decisions(app, definition, user, "completeness")
    if not decisions and not requests and review is None:
        return None
    answered = [r for r in requests if r.answers]
    context: dict[str, Any] = {
        "form": None,
        "documents": [],
        "decisions": decisions,
        "claimed_triggers": [d["trigger"] for d in decisions],
        "requests": [_request_view(r) for r in reversed(requests)],
        "review": _review_view(review, definition) if review is not None else None,
        "due_hint": None,
    }
    if not decisions:
        return context
    checklist = completeness.document_checklist(db.session, app, definition)
    form, posted = _card_form("completeness", app, definition, decisions, checklist)
    missing = [item["text"] for item in checklist if not item["present"]]
    if not posted and "items" in form:
        form["items"].data = "\n".join(missing)  # editable; left empty, the marks decide
    request_spec = next(
        (definition.transition(d["trigger"], app.state) for d in decisions if d["trigger"] == "request_supplement"),
        None,
    )
    if request_spec is not None and request_spec.dest in definition.deadlines:
        spec = definition.deadlines[request_spec.dest]
        due = completeness.default_due_date(definition, request_spec.dest, utcnow())
        if not posted and "due_date" in form:
            form["due_date"].data = due
        unit = gettext("working days") if spec.working_days else gettext("days")
        context["due_hint"] = gettext(
            "Left empty: %(days)s %(unit)s, until %(date)s.",
            days=spec.default_days,
            unit=unit,
            date=due.isoformat() if due else "",
        )
    latest_answers = answered[-1] if answered else None
    context["form"] = form
    context["documents"] = [_document_view(item, form, latest_answers) for item in checklist]
    return context


def _document_view(item: dict[str, Any], form: TransitionForm, answered: SupplementRequest | None) -> dict[str, Any]:
    # The applicant's latest answers beside the document they answer (a request item made from this document).
    given = (answered.answers or {}) if answered else {}
    answers = [
        (asked["text"], given.get(asked["id"], ""))
        for asked in (answered.items if answered else [])
        if asked["id"] == item["id"] or str(asked["text"]).startswith(item["text"])
    ]
    return {
        "id": item["id"],
        "label": item["text"] if lang() == "zh" else item["text_en"],
        "why": item["why"] if lang() == "zh" else item["why_en"],
        "present": item["present"],
        "url": url_for("pages.download_attachment", attachment_id=item["attachment_id"])
        if item["attachment_id"]
        else None,
        "filename": item["filename"],
        "version": item["version"],
        "status": form[f"doc_{item['id']}"],
        "note": form[f"note_{item['id']}"],
        "text": form[f"label_{item['id']}"],
        "answers": answers,
    }


def _request_view(row: SupplementRequest) -> dict[str, Any]:
    return {
        "id": row.id,
        "requested": local_time(row.requested_at),
        "due": row.due_date.isoformat(),
        "answered": local_time(row.answered_at) if row.answered_at else None,
        "items": [{**item, "answer": (row.answers or {}).get(item["id"])} for item in row.items],
    }


def _review_view(row: CompletenessReview, definition: Definition) -> dict[str, Any]:
    return {
        "label": definition.trigger_label(row.decision, lang()),
        "time": local_time(row.created_at),
        "items": [
            {**item, "status_text": STATUS_LABELS.get(item.get("status", ""), item.get("status", ""))}
            for item in row.items
        ],
    }


# --- JSON ------------------------------------------------------------------------------------------------------------


def _both(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


@api_bp.get("/desk")
def desk_api() -> Response:
    """What waits on the caller's desk (the same queue as the page), as JSON."""
    params, problems = desk_params(request.args)
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)
    queue = queues.desk_queue(db.session, _user(), **params)
    return jsonify(
        role=queue.role,
        waiting_on=queue.waiting_on,
        states=list(queue.states),
        counts=queue.counts,
        sort=params["sort"],
        order=params["order"],
        total=queue.total,
        page=queue.page,
        per_page=queue.per_page,
        items=[
            {
                "id": row.id,
                "project_name": row.project_name,
                "organisation": row.organisation,
                "kind": row.kind,
                "district": row.district,
                "programme": row.programme,
                "state": row.state,
                "state_label": _both(
                    row.definition.state_label(row.state, "zh"), row.definition.state_label(row.state, "en")
                ),
                "version": row.version,
                "waiting_since": iso_utc(row.waiting_since),
                "waiting_days": row.waiting_days,
                "waiting_for": {
                    "code": row.waiting_for.code,
                    "label": _both(row.waiting_for.label("zh"), row.waiting_for.label("en")),
                },
                "due_date": row.due_date.isoformat() if row.due_date else None,
            }
            for row in queue.rows
        ],
        undeclared=[
            {
                "project_name": u.project_name,
                "organisation": u.organisation,
                "district": u.district,
                "assigned_at": iso_utc(u.assigned_at),
            }
            for u in queue.undeclared
        ],
    )


@api_bp.get("/applications/<int:application_id>/prereviews")
def prereviews_api(application_id: int) -> Response:
    """The district pre-review records, oldest first; the applicant sees only returns and rejections, without checks."""
    app, definition = _visible_or_404(application_id)
    applicant = _user().role == "applicant"
    items = []
    for row in prereview.records(db.session, app.id, applicant=applicant, definition=definition):
        item: dict[str, Any] = {
            "decision": row.decision,
            "decision_label": _both(
                definition.trigger_label(row.decision, "zh"), definition.trigger_label(row.decision, "en")
            ),
            "opinion": row.opinion,
            "points": list(row.points or []),
            "created_at": iso_utc(row.created_at),
        }
        if not applicant:
            item.update(
                id=row.id,
                checks={name: (row.checks or {}).get(name, "not_checked") for name in prereview.CHECKS},
                reviewer=row.reviewer.username if row.reviewer else None,
                event_seq=row.event_seq,
            )
        items.append(item)
    return jsonify(items=items)


@api_bp.get("/applications/<int:application_id>/completeness")
def completeness_api(application_id: int) -> Response:
    """The per-document checklist, the latest completeness review (not for the applicant), the supplement requests."""
    app, definition = _visible_or_404(application_id)
    applicant = _user().role == "applicant"
    checklist = [
        {
            "id": item["id"],
            "text": _both(item["text"], item["text_en"]),
            "why": _both(item["why"], item["why_en"]) if item["why"] else None,
            "present": item["present"],
            "attachment": {
                "id": item["attachment_id"],
                "filename": item["filename"],
                "version": item["version"],
                "download_url": url_for("api.download_attachment", attachment_id=item["attachment_id"]),
            }
            if item["attachment_id"]
            else None,
        }
        for item in completeness.document_checklist(db.session, app, definition)
    ]
    review = None if applicant else completeness.latest_review(db.session, app.id)
    requests = completeness.supplement_requests(db.session, app.id)
    state = completeness.supplement_state(definition)
    due = completeness.default_due_date(definition, state, utcnow()) if state else None
    return jsonify(
        checklist=checklist,
        latest_review=None
        if review is None
        else {
            "decision": review.decision,
            "decision_label": _both(
                definition.trigger_label(review.decision, "zh"), definition.trigger_label(review.decision, "en")
            ),
            "items": review.items,
            "created_at": iso_utc(review.created_at),
            "event_seq": review.event_seq,
        },
        supplement_requests=[
            {
                "id": row.id,
                "items": [{**item, "answer": (row.answers or {}).get(item["id"])} for item in row.items],
                "due_date": row.due_date.isoformat(),
                "requested_at": iso_utc(row.requested_at),
                "answered_at": iso_utc(row.answered_at),
            }
            for row in requests
        ],
        default_due_date=due.isoformat() if due else None,
    )
