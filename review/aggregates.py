"""The experts' scores on their checklist's scale: per criterion each expert's score of its maximum, per expert the
weighted total and that total on a 100 scale, and the panel's aggregate (mean, median, lowest and highest).

Seed 002's tables record 符合 / 不符合; the optional score (0 to the criterion's scale, weighted) is a local setting
that helps the panel compare, it decides nothing (review/checklist_data). Pure functions over the consensus."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from review.checklists import Checklist

HUNDRED = Decimal(100)


def number(value: Decimal | None) -> str | None:
    """A figure as people write it: at most two decimals, no trailing zeros (8, 7.5, 87.25)."""
    if value is None:
        return None
    text = f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class Spread:
    """The panel's aggregate of some figures: how many, their mean and median, the lowest and the highest."""

    count: int
    mean: Decimal
    median: Decimal
    low: Decimal
    high: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "mean": number(self.mean),
            "median": number(self.median),
            "low": number(self.low),
            "high": number(self.high),
        }


def spread(values: Sequence[Decimal]) -> Spread | None:
    """None when there is nothing to aggregate."""
    if not values:
        return None
    ordered = sorted(values)
    return Spread(
        count=len(ordered),
        mean=sum(ordered, Decimal(0)) / len(ordered),
        median=Decimal(statistics.median(ordered)),
        low=ordered[0],
        high=ordered[-1],
    )


@dataclass(frozen=True)
class ExpertTotal:
    """One expert's sheet summed: the weighted total of their scores out of the weighted maximum of the criteria
    they scored, and that on a 100 scale; how many criteria they judged and found 符合."""

    username: str
    total: Decimal | None
    out_of: Decimal | None
    on_100: Decimal | None
    scored: int
    judged: int
    conform: int


def expert_totals(checklist: Checklist, criteria: list[dict[str, Any]], usernames: list[str]) -> list[ExpertTotal]:
    """Each expert's total from the consensus's criteria (their `results` in the experts' order)."""
    out = []
    for n, username in enumerate(usernames):
        total = out_of = Decimal(0)
        scored = judged = conform = 0
        for row in criteria:
            said = row["results"][n]
            criterion = checklist.by_id.get(row["criterion"])
            if said.get("result"):
                judged += 1
                conform += said["result"] == "conform"
            if criterion is None or said.get("score") is None:
                continue
            weight = Decimal(str(criterion.weight))
            total += Decimal(str(said["score"])) * weight
            out_of += Decimal(str(checklist.scale(criterion))) * weight
            scored += 1
        on_100 = total / out_of * HUNDRED if scored and out_of else None
        out.append(
            ExpertTotal(
                username=username,
                total=total if scored else None,
                out_of=out_of if scored else None,
                on_100=on_100,
                scored=scored,
                judged=judged,
                conform=conform,
            )
        )
    return out


def scores(checklist: Checklist | None, view: dict[str, Any]) -> dict[str, Any] | None:
    """The scores of a consensus view (review.consensus): per criterion its scale, each expert's score and the
    panel's spread; per expert the totals; the panel's spread of the totals on the 100 scale. None without a
    checklist, or while the view withholds the others' results."""
    if checklist is None or view.get("withheld"):
        return None
    usernames = [e["username"] for e in view["experts"]]
    criteria = []
    for row in view["criteria"]:
        criterion = checklist.by_id.get(row["criterion"])
        given = [Decimal(str(r["score"])) for r in row["results"] if r.get("score") is not None]
        found = spread(given)
        results = [r.get("result") for r in row["results"]]
        criteria.append(
            {
                "criterion": row["criterion"],
                "out_of": number(Decimal(str(checklist.scale(criterion)))) if criterion else None,
                "weight": number(Decimal(str(criterion.weight))) if criterion else None,
                "scores": [
                    number(Decimal(str(r["score"]))) if r.get("score") is not None else None for r in row["results"]
                ],
                "panel": found.as_dict() if found else None,
                "conform": results.count("conform"),
                "judged": sum(1 for r in results if r),
            }
        )
    totals = expert_totals(checklist, view["criteria"], usernames)
    panel = spread([t.on_100 for t in totals if t.on_100 is not None])
    return {
        "scale": number(Decimal(str(checklist.max_score))),
        "criteria": {c["criterion"]: c for c in criteria},
        "experts": [
            {
                "username": t.username,
                "total": number(t.total),
                "out_of": number(t.out_of),
                "on_100": number(t.on_100),
                "scored": t.scored,
                "judged": t.judged,
                "conform": t.conform,
            }
            for t in totals
        ],
        "panel": panel.as_dict() if panel else None,
        "any_scored": any(t.scored for t in totals),
    }
