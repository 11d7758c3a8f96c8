"""The meter evidence beside a checklist criterion: the latest snapshot's figure for each check the criterion names.

One shape for the expert's sheet, the panel's consensus and the verification record, so all three show the same
figures (and the consensus a panel concludes on keeps them, frozen with it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from meters import figures, snapshots
from meters.models import EvidenceSnapshot
from review.checklists import Criterion


def figure(result: dict[str, Any] | None, snapshot: EvidenceSnapshot | None) -> dict[str, Any] | None:
    """One check's figure from the snapshot: value, threshold, passed, the snapshot and period, its picture."""
    if result is None or snapshot is None:
        return None
    return {
        "value": result["value"],
        "threshold": result["threshold"],
        "passed": result["passed"],
        "snapshot_id": snapshot.id,
        "period": {"from": snapshot.period_start.isoformat(), "to": snapshot.period_end.isoformat()},
        # The picture beside it (daily, completeness, gaps, pue), drawn from the same snapshot; None if nothing to draw.
        "chart": figures.chart_for(result["check"], snapshot.figures or {}),
    }


class Beside:
    """The application's latest snapshot, read once, for the criteria of one page or document."""

    def __init__(self, session: Session, application_id: int):
        self.snapshot = snapshots.latest(session, application_id)
        self.results = {r["check"]: r for r in self.snapshot.results} if self.snapshot is not None else {}

    def of(self, criterion: Criterion) -> list[dict[str, Any]]:
        """[{check, result}] for the checks the criterion names (result None before a snapshot is taken)."""
        return [{"check": name, "result": figure(self.results.get(name), self.snapshot)} for name in criterion.evidence]
