"""The panel's consensus on the application page: who said what per criterion, before the leader concludes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from review import aggregates
from review.checklists import RESULTS, for_application
from review.consensus import consensus_for
from web.core.pages import lang, local_time
from workflow.db import db
from workflow.definitions import Definition
from workflow.models import Application

# Who sees the card: the panel and the desks that run and oversee the verification (not the applicant).
READERS = frozenset({"expert", "agency_coordinator", "municipal_reviewer", "finance_officer", "admin", "auditor"})


def consensus_card(app: Application, definition: Definition, user: Any, **_: Any) -> dict[str, Any] | None:
    if user.role not in READERS or not definition.checklists.get(app.kind):
        return None
    view = consensus_for(db.session, user, app, lang())
    if not view["experts"]:
        return None
    index = 1 if lang() == "en" else 0
    words = {key: labels[index] for key, labels in RESULTS.items()}
    # The page speaks Beijing time and names people; the operation's view gives UTC and usernames.
    names = {e["username"]: e["name"] for e in view["experts"]}
    experts = [{**e, "submitted_at": _local(e["submitted_at"])} for e in view["experts"]]
    findings = [{**f, "name": names.get(f["username"], f["username"])} for f in view["overall"]["findings"]]
    # The scores on their scale, each expert's total and the panel's spread (review.aggregates).
    scores = aggregates.scores(for_application(definition, app.kind), view)
    return {
        **view,
        "experts": experts,
        "overall": {**view["overall"], "findings": findings},
        "words": words,
        "scores": scores,
    }


def _local(stamp: str | None) -> str | None:
    return local_time(dt.datetime.fromisoformat(stamp)) if stamp else None
