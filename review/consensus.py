"""The panel's consensus, computed from each expert's own sheet (dissent kept), and the leader's conclusion."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from review import evidence
from review.checklists import Category, Checklist, for_application
from review.models import ChecklistAnswer, ChecklistPhoto, ChecklistSheet, PanelConclusion
from review.scoring import weighted_score
from workflow.accounts import Actor
from workflow.db import iso_utc
from workflow.errors import Problem
from workflow.models import Application, Assignment
from workflow.registry import Context, effect, guard
from workflow.visibility import programme_definitions


def panel_members(session: Session, application_id: int) -> list[Assignment]:
    """Everyone on the panel now (active), the leader first; those who declared a conflict have left it."""
    rows = session.scalars(
        select(Assignment)
        .where(Assignment.application_id == application_id, Assignment.role == "expert", Assignment.active.is_(True))
        .order_by(Assignment.is_leader.desc(), Assignment.id)
    )
    return [row for row in rows if row.conflict is not True]


def category_result(category: Category, kind: str, results: dict[str, str | None]) -> str | None:
    """One expert's finding for a category: its rule applied to their criterion results (None: not all scored)."""
    mine = [results.get(c.id) for c in category.criteria if c.applies(kind)]
    if not mine or any(r is None for r in mine):
        return None
    scored = [r for r in mine if r != "not_applicable"]
    if category.rule == "any":
        # Seed 002 附表 category 6 "一种或多种效果": met only when at least one effect conforms; none claimed
        # (every one 不适用) is unmet, never conform.
        return "conform" if "conform" in scored else "nonconform"
    if not scored:
        return "not_applicable"
    return "conform" if all(r == "conform" for r in scored) else "nonconform"


def overall_finding(categories: list[str | None]) -> str | None:
    """One expert's finding over their category results: conform needs one conforming category and none against
    (a sheet of nothing but 不适用 is not conform); None while any category is not yet scored."""
    if any(r is None for r in categories):
        return None
    return "conform" if "conform" in categories and "nonconform" not in categories else "nonconform"


def _agreement(values: list[str | None]) -> str:
    if not values or any(v is None for v in values):
        return "pending"
    return "agree" if len(set(values)) == 1 else "disagree"


def consensus(
    session: Session, application: Application, checklist: Checklist | None = None, *, lang: str = "zh"
) -> dict[str, Any]:
    """Per criterion and category who said what, whether they agree, and each expert's overall finding."""
    return _consensus(session, application, checklist, lang, blind=False)


def consensus_for(session: Session, actor: Actor, application: Application, lang: str = "zh") -> dict[str, Any]:
    """The consensus as `actor` may read it: a panel expert sees the others' results only after submitting."""
    blind = False
    if actor.role == "expert":
        mine = session.scalar(
            select(ChecklistSheet.submitted_at).where(
                ChecklistSheet.application_id == application.id, ChecklistSheet.expert_id == actor.id
            )
        )
        blind = mine is None  # so that no one is swayed before recording their own findings
    return _consensus(session, application, None, lang, blind=blind)


def _consensus(
    session: Session, application: Application, checklist: Checklist | None, lang: str, *, blind: bool
) -> dict[str, Any]:
    if checklist is None:
        checklist = for_application(programme_definitions(session)[application.programme_version_id], application.kind)
    members = panel_members(session, application.id)
    sheets = {
        s.expert_id: s
        for s in session.scalars(select(ChecklistSheet).where(ChecklistSheet.application_id == application.id))
    }
    # Only a submitted sheet counts: drafts change until the expert signs.
    submitted = {m.user_id for m in members if sheets.get(m.user_id) and sheets[m.user_id].submitted_at}
    counted = set() if blind else submitted
    answers: dict[int, dict[str, ChecklistAnswer]] = {}
    photos: dict[tuple[int, str], list[int]] = {}
    by_sheet = {s.id: uid for uid, s in sheets.items() if uid in counted}
    if by_sheet:
        for row in session.scalars(select(ChecklistAnswer).where(ChecklistAnswer.sheet_id.in_(by_sheet))):
            answers.setdefault(by_sheet[row.sheet_id], {})[row.criterion] = row
        for photo in session.scalars(
            select(ChecklistPhoto).where(ChecklistPhoto.sheet_id.in_(by_sheet)).order_by(ChecklistPhoto.id)
        ):
            photos.setdefault((by_sheet[photo.sheet_id], photo.criterion), []).append(photo.id)
    experts = [
        {
            "username": m.user.username,
            "name": m.user.display_name or m.user.username,
            "leader": m.is_leader,
            "declared": m.declared_at is not None,
            "submitted_at": iso_utc(sheets[m.user_id].submitted_at) if m.user_id in submitted else None,
        }
        for m in members
    ]
    final = {m.user_id: {c: a.result for c, a in answers.get(m.user_id, {}).items()} for m in members}
    kind = application.kind
    beside = evidence.Beside(session, application.id)
    criteria_out: list[dict[str, Any]] = []
    categories_out: list[dict[str, Any]] = []
    for category in checklist.categories if checklist is not None else ():
        for criterion in category.criteria:
            if not criterion.applies(kind):
                continue
            said: list[dict[str, Any]] = []
            for m in members:
                a = answers.get(m.user_id, {}).get(criterion.id)
                said.append(
                    {
                        "username": m.user.username,
                        "result": a.result if a else None,
                        "note": a.note if a else "",
                        "score": str(a.score) if a and a.score is not None else None,
                        "photos": photos.get((m.user_id, criterion.id), []),
                    }
                )
            criteria_out.append(
                {
                    "criterion": criterion.id,
                    "category": category.id,
                    "text": criterion.text,
                    "agreement": _agreement([s["result"] for s in said]),
                    "results": said,
                    "evidence": beside.of(criterion),  # the same figures the experts saw on their sheets
                }
            )
        found: list[dict[str, Any]] = [
            {
                "username": m.user.username,
                "result": category_result(category, kind, final[m.user_id]) if m.user_id in counted else None,
            }
            for m in members
        ]
        categories_out.append(
            {
                "category": category.id,
                "title": category.title if lang == "zh" else category.title_en,
                "rule": category.rule,
                "agreement": _agreement([f["result"] for f in found]),
                "results": found,
            }
        )
    overall = []
    for n, m in enumerate(members):
        mine = [c["results"][n]["result"] for c in categories_out]  # results are in the members' order
        finding = overall_finding(mine) if m.user_id in counted else None
        counted_answers = answers.get(m.user_id, {}) if m.user_id in counted else {}
        score = weighted_score(checklist, kind, counted_answers) if checklist is not None else None
        overall.append({"username": m.user.username, "finding": finding, "weighted_score": score})
    complete = bool(members) and all(m.user_id in submitted for m in members)
    return {
        "application_id": application.id,
        "checklist": checklist.ref if checklist else None,
        "experts": experts,
        "complete": complete,
        "withheld": blind,
        "criteria": criteria_out,
        "categories": categories_out,
        "overall": {"agreement": _agreement([o["finding"] for o in overall]), "findings": overall},
        "disagreements": [c["criterion"] for c in criteria_out if c["agreement"] == "disagree"],
    }


@guard("panel_sheets_complete")
def panel_sheets_complete(ctx: Context) -> Iterator[Problem]:
    """The panel concludes only when every member has declared, scored every criterion and signed."""
    members = panel_members(ctx.session, ctx.application.id)
    if not members:
        yield Problem("panel", "no_panel", "no expert panel has been drawn for this application")
        return
    definition = ctx.definition
    checklist = for_application(definition, ctx.application.kind)
    for m in members:
        who = m.user.username
        if m.declared_at is None:
            yield Problem(f"panel.{who}", "not_declared", f"{who} has not declared on conflicts of interest yet")
            continue
        sheet = ctx.session.scalars(
            select(ChecklistSheet).where(
                ChecklistSheet.application_id == ctx.application.id, ChecklistSheet.expert_id == m.user_id
            )
        ).one_or_none()
        if sheet is None or sheet.submitted_at is None:
            yield Problem(
                f"panel.{who}", "sheet_not_submitted", f"{who} has not signed and submitted a checklist sheet"
            )
        if checklist is None:
            continue
        # Each criterion still open, on a draft as on a signed sheet (which submit already checked).
        scored = (
            {
                a.criterion
                for a in ctx.session.scalars(select(ChecklistAnswer).where(ChecklistAnswer.sheet_id == sheet.id))
                if a.result
            }
            if sheet is not None
            else set()
        )
        for c in checklist.criteria_for(ctx.application.kind):
            if c.id not in scored:
                yield Problem(f"panel.{who}.{c.id}", "no_result", f"{who} has no result for criterion {c.id}")


@guard("panel_findings_support_pass")
def panel_findings_support_pass(ctx: Context) -> Iterator[Problem]:
    """conclude_pass only when no criterion is found 不符合 by a majority (more than half the panel), nor the
    effects of category 6 unmet; conclude_fail needs no majority. Dissent stays recorded with the conclusion."""
    found = consensus(ctx.session, ctx.application)
    size = len(found["experts"])
    for criterion in found["criteria"]:
        against = [r["username"] for r in criterion["results"] if r["result"] == "nonconform"]
        if size and len(against) * 2 > size:
            yield Problem(
                f"criteria.{criterion['criterion']}",
                "majority_nonconform",
                f"第{criterion['criterion']}项：专家组多数（{len(against)}/{size}：{'、'.join(against)}）判定不符合，"
                f"不能作出“通过”结论（a majority finds criterion {criterion['criterion']} nonconforming）",
            )
    rules = {c["category"]: c["rule"] for c in found["categories"]}
    for category in found["categories"]:
        unmet = [r["username"] for r in category["results"] if r["result"] == "nonconform"]
        if rules[category["category"]] == "any" and size and len(unmet) * 2 > size:
            yield Problem(
                f"categories.{category['category']}",
                "effects_unmet",
                f"第{category['category']}类“{category['title']}”：专家组多数（{len(unmet)}/{size}）认为一种或多种效果均未实现，"
                f"不能作出“通过”结论（a majority finds no effect achieved）",
            )


@effect("record_panel_conclusion")
def record_panel_conclusion(ctx: Context) -> None:
    """Keep the leader's conclusion with the consensus as it stood, every dissent included."""
    ctx.session.add(
        PanelConclusion(
            application_id=ctx.application.id,
            result="pass" if ctx.trigger == "conclude_pass" else "fail",
            reasons=str(ctx.payload.get("comment", "")).strip(),
            leader_id=ctx.actor.id,
            consensus=consensus(ctx.session, ctx.application),
            event_seq=ctx.event_seq,
        )
    )
