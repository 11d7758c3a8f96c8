"""Review desks' pages: each desk's queue, and the district pre-review and completeness-check cards.

The decisions themselves post to the generic transition view (page) or POST …/transitions (API); this module
shows what waits and builds the cards' one-form-many-buttons.
"""

from __future__ import annotations

import io
from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required

from review import completeness, prereview, queues
from review.models import CompletenessReview, PreReview, SupplementRequest
from storage import sheets
from web.core.actor import me
from web.core.api import xlsx_response
from web.core.page_forms import FINDING_LABELS, N_, STATUS_LABELS, TransitionForm, card_form, card_of, posted_card_form
from web.core.pages import CAUTION_TRIGGERS, kind_label, lang, local_time
from web.desks.blueprints import pages as bp
from web.desks.queue_params import desk_params
from workflow.accounts import User
from workflow.db import db, utcnow
from workflow.definitions import Definition
from workflow.engine import allowed_triggers
from workflow.models import Application
from workflow.visibility import current_definitions, programme_definitions

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
            "url": url_for("applications.application", application_id=row.id),
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
        export_url=url_for(".desk_export", **{k: v for k, v in shown.items()}),
    )


@bp.route("/desk.xlsx")
@login_required
def desk_export() -> Any:
    """The desk's list with its filters and order, every page of it, as .xlsx (what the page shows, page by page)."""
    params, problems = desk_params(request.args)
    for problem in problems:
        params[problem.field] = PARAM_DEFAULTS[problem.field]
    user = me()
    titles = {
        code: d.title.get(lang()) or code for code, d in current_definitions(programme_definitions(db.session)).items()
    }
    shown = [f"{k}={v}" for k, v in params.items() if k not in ("page", "per_page") and v != PARAM_DEFAULTS[k]]
    title = f"{gettext('Desk')}（{'; '.join(shown) or gettext('all')}；{local_time(utcnow())}）"
    words = (
        N_("Number"),
        N_("Project"),
        N_("Organisation"),
        N_("District"),
        N_("Programme"),
        N_("State"),
        N_("Waiting for"),
        N_("Waiting"),
        N_("Due"),
    )
    header = [gettext(w) for w in words]

    def rows() -> Any:
        page = 1
        while True:
            queue = queues.desk_queue(db.session, user, **{**params, "page": page, "per_page": queues.MAX_PER_PAGE})
            for row in queue.rows:
                yield [
                    row.id,
                    row.project_name,
                    row.organisation,
                    row.district or "",
                    titles.get(row.programme, row.programme),
                    row.definition.state_label(row.state, lang()),
                    row.waiting_for.label(lang()),
                    row.waiting_days,
                    row.due_date,
                ]
            if page * queues.MAX_PER_PAGE >= queue.total:
                return
            page += 1

    out = io.BytesIO()
    sheets.write(out, gettext("Desk"), title, header, rows())
    return xlsx_response(out.getvalue(), "desk.xlsx")


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
            "url": url_for("applications.transition", application_id=app.id, trigger=t),
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
        "url": url_for("applications.download_attachment", attachment_id=item["attachment_id"])
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
