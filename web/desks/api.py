"""Review desks' API: the desk queue, and the pre-review and completeness records, as JSON."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for

from review import completeness, prereview, queues
from web.core.actor import me, visible_or_404
from web.desks.blueprints import api as bp
from web.desks.queue_params import desk_params
from workflow.db import db, iso_utc, utcnow
from workflow.errors import InvalidInput

# --- JSON ------------------------------------------------------------------------------------------------------------


def _both(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


@bp.get("/desk")
def desk_api() -> Response:
    """What waits on the caller's desk (the same queue as the page), as JSON."""
    params, problems = desk_params(request.args)
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)
    queue = queues.desk_queue(db.session, me(), **params)
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


@bp.get("/applications/<int:application_id>/prereviews")
def prereviews_api(application_id: int) -> Response:
    """The district pre-review records, oldest first; the applicant sees only returns and rejections, without checks."""
    app, definition = visible_or_404(application_id)
    applicant = me().role == "applicant"
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


@bp.get("/applications/<int:application_id>/completeness")
def completeness_api(application_id: int) -> Response:
    """The per-document checklist, the latest completeness review (not for the applicant), the supplement requests."""
    app, definition = visible_or_404(application_id)
    applicant = me().role == "applicant"
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
                "download_url": url_for("api.applications.download_attachment", attachment_id=item["attachment_id"]),
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
