"""A round's summary (issue 15 item 8): one programme version's settings and the overview's figures for the
applications created under it — by state, district and applicant kind, the verdicts, each desk's waiting, the
programme's budgets — within what the reader may see. The figures are review.overview's, narrowed to the version."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from review.overview import Overview, overview
from workflow.accounts import Actor
from workflow.definitions import Definition
from workflow.models import Application, ProgrammeVersion
from workflow.visibility import programme_definitions, visible_applications


@dataclass(frozen=True)
class RoundSummary:
    definition: Definition
    published_at: dt.datetime
    figures: Overview  # narrowed to the version
    by_kind: dict[str, int]  # applicant kind -> applications

    def by_district(self) -> dict[str | None, int]:
        counts: Counter[str | None] = Counter()
        for cell in self.figures.by_state.values():
            counts.update(cell)
        return dict(counts)

    def by_state(self) -> list[tuple[str, int]]:
        """(state, applications) in the order the definition lists its states, then any it no longer names."""
        totals = {state: n for (_code, state), n in self.figures.state_totals().items()}
        known = [s for s in self.definition.states if s in totals]
        return [(s, totals[s]) for s in known + sorted(set(totals) - set(known))]


def rounds(session: Session) -> list[Definition]:
    """Every published version (a round), by programme, the newest first."""
    return sorted(programme_definitions(session).values(), key=lambda d: (d.code, -d.version))


def round_summary(
    session: Session,
    actor: Actor,
    code: str,
    version: int,
    now: dt.datetime | None = None,
    with_budgets: bool = True,
) -> RoundSummary | None:
    """The summary of programme `code` version `version` for `actor`; None if there is no such version."""
    found = session.execute(
        select(ProgrammeVersion.id, ProgrammeVersion.published_at).where(
            ProgrammeVersion.code == code, ProgrammeVersion.version == version
        )
    ).one_or_none()
    if found is None:
        return None
    version_id, published_at = found
    definitions = programme_definitions(session)
    figures = overview(session, actor, now=now, with_budgets=with_budgets, version_id=version_id)
    visible = (
        visible_applications(session, actor, definitions)
        .where(Application.programme_version_id == version_id)
        .subquery()
    )
    kinds = session.execute(select(visible.c.kind, func.count()).group_by(visible.c.kind))
    return RoundSummary(definitions[version_id], published_at, figures, {kind: n for kind, n in kinds})
