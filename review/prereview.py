"""District pre-review (材料初审): what was checked, the opinion, and the decision with its points or reasons."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, joinedload

from review.models import PreReview
from workflow.db import table_of, utcnow
from workflow.definitions import Definition
from workflow.errors import Problem
from workflow.registry import Context, effect, guard

_prereviews = table_of(PreReview)

# What seed 002 §五(一) asks the district authority to check, in its order and words: "对申报材料真实性进行初审，
# 包括申请表、企业、数据中心或园区法人资格、运营情况及经济状况等".
CHECKS: dict[str, tuple[str, str]] = {
    "form_authenticity": ("申请表真实性", "Authenticity of the application form"),
    "legal_entity": ("法人资格", "Legal-entity status"),
    "operations": ("运营情况", "Operations"),
    "finances": ("经济状况", "Economic situation"),
}
FINDINGS: tuple[str, ...] = ("ok", "problem", "not_checked")
# Decisions whose points and opinion go back to the applicant (what to correct, or why it was refused), where no
# definition is at hand: the definition's addressed triggers (workflow.definitions, visibility) decide otherwise.
TOLD_TO_APPLICANT: frozenset[str] = frozenset({"return_for_correction", "reject"})


def records(
    session: Session, application_id: int, *, applicant: bool = False, definition: Definition | None = None
) -> list[PreReview]:
    """The application's pre-review records, oldest first; for the applicant only the decisions addressed to them
    (returns and rejections), never a pass's opinion.

    The caller has already loaded the application through workflow.visibility.
    """
    query = (
        select(PreReview)
        .options(joinedload(PreReview.reviewer))
        .where(PreReview.application_id == application_id)
        .order_by(PreReview.id)
    )
    if applicant:
        told = definition.addressed_triggers if definition is not None else TOLD_TO_APPLICANT
        query = query.where(PreReview.decision.in_(sorted(told)))
    return list(session.scalars(query))


def normalise_points(raw: Any) -> list[str]:
    """The points to correct, or the reasons: a list of strings, or one text split into lines."""
    if isinstance(raw, str):
        raw = raw.splitlines()
    if not isinstance(raw, list):
        return []
    return [str(p).strip() for p in raw if str(p).strip()]


def points_of(payload: dict[str, Any], trigger: str) -> list[str]:
    """The points a decision lists: its `points`, or else (a return, a refusal) its comment, one point per line.
    The pre-review card and the return's points to answer both read them here."""
    points = normalise_points(payload.get("points"))
    if not points and trigger != "pass_prereview":
        points = normalise_points(str(payload.get("comment") or ""))
    return points


@guard("prereview_record_valid")
def prereview_record_valid(ctx: Context) -> Iterator[Problem]:
    """`checks`, when given, maps each known check to ok / problem / not_checked; `points` is a list of text."""
    checks = ctx.payload.get("checks")
    if checks is not None:
        if not isinstance(checks, dict):
            yield Problem("checks", "invalid", "checks 应将每项核查对应为 ok、problem 或 not_checked")
            return
        for name, finding in checks.items():
            if name not in CHECKS:
                yield Problem(f"checks.{name}", "unknown_check", f"“{name}”不是初审核查项（{'、'.join(CHECKS)}）")
            elif finding not in FINDINGS:
                message = f"核查项 {name} 的结果“{finding}”无效，应为 {'、'.join(FINDINGS)} 之一"
                yield Problem(f"checks.{name}", "invalid_finding", message)
    points = ctx.payload.get("points")
    if points is not None and not isinstance(points, (list, str)):
        yield Problem("points", "invalid", "points 应为文字列表（每条一项）")


@guard("prereview_all_checked")
def prereview_all_checked(ctx: Context) -> Iterator[Problem]:
    """Passing needs every check done and found in order."""
    checks = ctx.payload.get("checks")
    if not isinstance(checks, dict):
        return  # the required-field or record guard names it
    for name, (zh, en) in CHECKS.items():
        finding = checks.get(name, "not_checked")
        if finding == "not_checked":
            yield Problem(f"checks.{name}", "not_checked", f"“{zh}”尚未核查：初审通过须完成每项核查（{en}）")
        elif finding == "problem":
            message = f"“{zh}”核查发现问题：请退回修改或不予通过（{en}）"
            yield Problem(f"checks.{name}", "problem_found", message)


@effect("record_prereview")
def record_prereview(ctx: Context) -> None:
    raw = ctx.payload.get("checks")
    checks = (
        {name: (raw or {}).get(name, "not_checked") for name in CHECKS} if isinstance(raw, dict) or raw is None else {}
    )
    comment = str(ctx.payload.get("comment") or "").strip()
    points = points_of(ctx.payload, ctx.trigger)
    opinion = str(ctx.payload.get("opinion") or "").strip()
    if not opinion and comment and normalise_points(comment) != points:
        opinion = comment  # a comment beside the points (or with a pass) is the opinion
    # A Core INSERT in the command's transaction: nothing reads the row back before the commit (fire()'s hot path).
    ctx.session.execute(
        insert(_prereviews).values(
            application_id=ctx.application.id,
            reviewer_id=ctx.actor.id,
            decision=ctx.trigger,
            checks=checks,
            opinion=opinion,
            points=points,
            event_seq=ctx.event_seq,
            created_at=utcnow(),
        )
    )
