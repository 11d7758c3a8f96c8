"""The experts' scores on their scale and the panel's aggregate (review.aggregates), against figures worked out by
hand below. The scores are a local setting (review/checklist_data: seed 002's tables record 符合 / 不符合 only)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from review.aggregates import expert_totals, number, scores, spread
from review.checklists import _parse

# Three criteria on a checklist scored 0–10: a (weight 1), b (weight 2), c (weight 2, its own maximum 5).
# The weighted maximum of a full sheet: 10×1 + 10×2 + 5×2 = 40.
CHECKLIST = _parse(
    {
        "code": "hand-checklist",
        "version": 1,
        "annex": "附表",
        "title": "手算核查表",
        "max_score": 10,
        "categories": [
            {
                "id": "1",
                "title": "1、",
                "criteria": [
                    {"id": "a", "text": "a"},
                    {"id": "b", "text": "b", "weight": 2},
                    {"id": "c", "text": "c", "weight": 2, "max_score": 5},
                ],
            }
        ],
    },
    "hand",
)


def _said(result: str | None, score: str | None) -> dict[str, Any]:
    return {"result": result, "score": score, "note": "", "photos": []}


# Expert 1: a 8, b 9, c 5 → 8 + 18 + 10 = 36 of 40 → 90.
# Expert 2: a 6, b 7, c 4 → 6 + 14 + 8 = 28 of 40 → 70.
# Expert 3: a 10, b 7.5, c judged 不符合 without a score → 10 + 15 = 25 of the 30 scored → 83.333… → 83.33.
VIEW: dict[str, Any] = {
    "withheld": False,
    "experts": [{"username": u} for u in ("e1", "e2", "e3")],
    "criteria": [
        {"criterion": "a", "results": [_said("conform", "8"), _said("conform", "6"), _said("conform", "10")]},
        {"criterion": "b", "results": [_said("conform", "9"), _said("conform", "7"), _said("conform", "7.5")]},
        {"criterion": "c", "results": [_said("conform", "5"), _said("conform", "4"), _said("nonconform", None)]},
    ],
}


def test_each_experts_total_is_out_of_the_weighted_maximum_of_what_they_scored() -> None:
    totals = expert_totals(CHECKLIST, VIEW["criteria"], ["e1", "e2", "e3"])
    assert [(t.total, t.out_of) for t in totals] == [
        (Decimal(36), Decimal(40)),
        (Decimal(28), Decimal(40)),
        (Decimal(25), Decimal(30)),
    ]
    assert [number(t.on_100) for t in totals] == ["90", "70", "83.33"]
    assert [(t.conform, t.judged) for t in totals] == [(3, 3), (3, 3), (2, 3)]


def test_the_panels_aggregate_is_the_mean_median_and_range_of_the_totals() -> None:
    found = scores(CHECKLIST, VIEW)
    assert found is not None
    # Mean (90 + 70 + 83.333…) / 3 = 243.333… / 3 = 81.111… → 81.11; median 83.33; range 70–90.
    assert found["panel"] == {"count": 3, "mean": "81.11", "median": "83.33", "low": "70", "high": "90"}
    assert [e["on_100"] for e in found["experts"]] == ["90", "70", "83.33"]
    assert [(e["total"], e["out_of"]) for e in found["experts"]] == [("36", "40"), ("28", "40"), ("25", "30")]


def test_per_criterion_each_score_is_on_its_own_scale_with_the_panels_mean() -> None:
    found = scores(CHECKLIST, VIEW)
    assert found is not None
    a, b, c = (found["criteria"][k] for k in "abc")
    assert (a["out_of"], a["scores"], a["panel"]["mean"], a["panel"]["low"], a["panel"]["high"]) == (
        "10",
        ["8", "6", "10"],
        "8",
        "6",
        "10",
    )
    assert b["panel"]["mean"] == "7.83"  # (9 + 7 + 7.5) / 3 = 23.5 / 3 = 7.833…
    assert b["panel"]["median"] == "7.5"
    assert (c["out_of"], c["scores"], c["panel"]["mean"], c["panel"]["count"]) == ("5", ["5", "4", None], "4.5", 2)
    assert (c["conform"], c["judged"]) == (2, 3)


def test_nothing_to_aggregate_while_withheld_or_unscored() -> None:
    assert scores(CHECKLIST, {**VIEW, "withheld": True}) is None
    assert scores(None, VIEW) is None
    unscored = {
        **VIEW,
        "criteria": [{**row, "results": [{**r, "score": None} for r in row["results"]]} for row in VIEW["criteria"]],
    }
    found = scores(CHECKLIST, unscored)
    assert found is not None and found["panel"] is None and found["any_scored"] is False
    assert spread([]) is None
    even = spread([Decimal(70), Decimal(90)])
    assert even is not None and (even.mean, even.median) == (Decimal(80), Decimal(80))
