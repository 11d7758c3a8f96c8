"""The commission's overview (issue 15 item 7): applications by programme, state and district; each desk's waiting
times (median and worst); supplements overdue or due soon; the site verification's pass rate by applicant kind;
the budgets. Everything is counted within what the reader may see (the one visibility query)."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from review import budgets
from review.models import PanelConclusion, SupplementRequest
from review.queues import DESKS, entered_state
from workflow import workdays
from workflow.accounts import Actor
from workflow.db import as_utc, utcnow
from workflow.models import Application
from workflow.visibility import programme_definitions, visible_applications

SOON = 3  # working days: a supplement due within this many is "due soon"


@dataclass(frozen=True)
class DeskWait:
    """How long what waits on one desk has waited (whole days since it entered its state, Beijing calendar)."""

    role: str
    states: tuple[str, ...]
    count: int
    median_days: float | None
    worst_days: int | None
    worst_application: int | None


@dataclass(frozen=True)
class Overview:
    total: int
    # (programme code, state) -> district (None: no district) -> count
    by_state: dict[tuple[str, str], dict[str | None, int]]
    desks: list[DeskWait]
    supplements_overdue: int  # open requests past their due date (the deadline job lapses them)
    supplements_due_soon: int  # open, due within SOON working days
    verdicts: dict[str, tuple[int, int]]  # applicant kind -> (passed, failed) site verifications
    budget_lines: list[budgets.LedgerLine] = field(default_factory=list)
    today: dt.date | None = None

    def pass_rate(self, kind: str) -> float | None:
        passed, failed = self.verdicts.get(kind, (0, 0))
        return passed / (passed + failed) if passed + failed else None

    def state_totals(self) -> dict[tuple[str, str], int]:
        return {key: sum(by_district.values()) for key, by_district in self.by_state.items()}

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "today": self.today.isoformat() if self.today else None,
            "by_state": [
                {"programme": code, "state": state, "district": district, "count": count}
                for (code, state), by_district in sorted(self.by_state.items())
                for district, count in sorted(by_district.items(), key=lambda kv: kv[0] or "")
            ],
            "desks": [
                {
                    "role": d.role,
                    "states": list(d.states),
                    "count": d.count,
                    "median_days": d.median_days,
                    "worst_days": d.worst_days,
                    "worst_application": d.worst_application,
                }
                for d in self.desks
            ],
            "supplements": {"overdue": self.supplements_overdue, "due_soon": self.supplements_due_soon},
            "verdicts": [
                {"kind": kind, "passed": p, "failed": f, "pass_rate": self.pass_rate(kind)}
                for kind, (p, f) in sorted(self.verdicts.items())
            ],
            "budgets": [line.as_dict() for line in self.budget_lines],
        }


def overview(
    session: Session,
    actor: Actor,
    now: dt.datetime | None = None,
    with_budgets: bool = True,
    version_id: int | None = None,
) -> Overview:
    """The figures for `actor`, as of `now` (Beijing's calendar); of one programme version (a round) if given."""
    now = as_utc(now) if now is not None else utcnow()
    today = workdays.today_in_shanghai(now)
    definitions = programme_definitions(session)
    code_of = {pv_id: d.code for pv_id, d in definitions.items()}

    def seen() -> Any:
        query = visible_applications(session, actor, definitions)
        return query if version_id is None else query.where(Application.programme_version_id == version_id)

    visible = seen().subquery()

    grouped = session.execute(
        select(visible.c.programme_version_id, visible.c.state, visible.c.district, func.count()).group_by(
            visible.c.programme_version_id, visible.c.state, visible.c.district
        )
    )
    by_state: dict[tuple[str, str], dict[str | None, int]] = {}
    total = 0
    for pv_id, state, district, count in grouped:
        cell = by_state.setdefault((code_of[pv_id], state), {})
        cell[district] = cell.get(district, 0) + count
        total += count

    desks = []
    for role, views in DESKS.items():
        states = views.get("desk", ())
        since = entered_state()
        rows = session.execute(
            seen()
            .with_only_columns(Application.id, since.label("since"))
            .where(Application.state.in_(states))
            .order_by(Application.id)
        ).all()
        waits = [((today - workdays.today_in_shanghai(as_utc(entered))).days, app_id) for app_id, entered in rows]
        worst = max(waits) if waits else None
        desks.append(
            DeskWait(
                role,
                tuple(states),
                len(waits),
                float(statistics.median(d for d, _ in waits)) if waits else None,
                worst[0] if worst else None,
                worst[1] if worst else None,
            )
        )

    visible_ids = select(visible.c.id)
    open_requests = session.execute(
        select(SupplementRequest.due_date)
        .join(visible, visible.c.id == SupplementRequest.application_id)
        .where(SupplementRequest.answered_at.is_(None), visible.c.state == "supplement_requested")
    ).scalars()
    soon_until = workdays.add_working_days(today, SOON)
    dues = list(open_requests)
    overdue = sum(1 for due in dues if due < today)
    due_soon = sum(1 for due in dues if today <= due <= soon_until)

    latest = (
        select(PanelConclusion.application_id, func.max(PanelConclusion.id).label("last"))
        .where(PanelConclusion.application_id.in_(visible_ids))
        .group_by(PanelConclusion.application_id)
        .subquery()
    )
    verdict_rows = session.execute(
        select(visible.c.kind, PanelConclusion.result, func.count())
        .select_from(PanelConclusion)
        .join(latest, latest.c.last == PanelConclusion.id)
        .join(visible, visible.c.id == PanelConclusion.application_id)
        .group_by(visible.c.kind, PanelConclusion.result)
    )
    verdicts: dict[str, tuple[int, int]] = {}
    for kind, result, count in verdict_rows:
        passed, failed = verdicts.get(kind, (0, 0))
        verdicts[kind] = (passed + count, failed) if result == "pass" else (passed, failed + count)

    programme = code_of[version_id] if version_id is not None else None
    lines = budgets.ledger(session, programme) if with_budgets else []
    return Overview(total, by_state, desks, overdue, due_soon, verdicts, lines, today)
