"""The site-verification record: who may read it, and the dossier `storage.verification_record` prints.

The dossier is drawn from the database as it stands: the application and its unit, the visit, the panel (and its
draws), the consensus (the one the leader concluded on, once concluded), each expert's signed sheet with its
signature and photos read from the blob store (checked against their recorded SHA-256), and the conclusion.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meters import charts, check_names
from meters.models import EvidenceSnapshot
from review import site_visit
from review.checklists import Checklist, for_application
from review.consensus import consensus, panel_members
from review.models import (
    ChecklistAnswer,
    ChecklistPhoto,
    ChecklistSheet,
    ExpertProfile,
    PanelConclusion,
    PanelDraw,
    SiteVisit,
)
from storage import verification_record as printed
from storage.blobs import BlobStore
from workflow.accounts import Actor, User
from workflow.beijing import beijing_time
from workflow.db import utcnow
from workflow.definitions import Definition
from workflow.errors import Forbidden, NotFound, WorkflowError
from workflow.models import Application
from workflow.visibility import programme_definitions, visible_or_not_found

# Who reads the record besides the panel itself (experts see only applications they sit on, by visibility).
READERS = frozenset({"expert", "agency_coordinator", "municipal_reviewer", "finance_officer", "admin", "auditor"})
# The applicant reads it once the panel has concluded (the decision rests on it), never while the panel deliberates.
APPLICANT = "applicant"
KIND_WORDS = {"enterprise": "工业用能企业", "data_centre": "数据中心", "park": "园区"}
DRAW_WORDS = {"initial": "首次抽取", "replacement": "替换抽取", "refill": "补足空缺"}


def filename(application: Application) -> str:
    return f"现场核查记录_{application.id}.docx"


def _local(value: dt.datetime | None) -> str:
    return beijing_time(value)


def conclusion_of(session: Session, application_id: int) -> PanelConclusion | None:
    return session.scalars(
        select(PanelConclusion)
        .where(PanelConclusion.application_id == application_id)
        .order_by(PanelConclusion.id.desc())
        .limit(1)
    ).one_or_none()


def refusal(
    session: Session, actor: Actor, application: Application, definition: Definition
) -> tuple[WorkflowError | None, Checklist | None, PanelConclusion | None]:
    """Why `actor`, who sees `application`, may not read its record (None: they may); its checklist, conclusion."""
    if actor.role not in READERS and actor.role != APPLICANT:
        why = "the verification record is for the panel, the agency, the commission, finance, admins and auditors"
        return Forbidden(why), None, None
    checklist = for_application(definition, application.kind)
    conclusion = conclusion_of(session, application.id)
    if checklist is None or (conclusion is None and not panel_members(session, application.id)):
        return NotFound(f"application {application.id} has no site-verification panel yet"), None, None
    if actor.role == APPLICANT and conclusion is None:
        return Forbidden("the applicant may read the verification record once the panel has concluded"), None, None
    return None, checklist, conclusion


def may_read(session: Session, actor: Actor, application: Application, definition: Definition) -> bool:
    return refusal(session, actor, application, definition)[0] is None


def _blob(store: BlobStore, key: str | None, sha256: str | None) -> bytes | None:
    """The stored bytes if they are still those recorded; None when missing or changed."""
    if not key or not sha256 or not store.exists(key):
        return None
    data = b"".join(store.open(key))
    return data if hashlib.sha256(data).hexdigest() == sha256 else None


def _names(said: dict[str, Any]) -> dict[str, str]:
    return {e["username"]: e["name"] for e in said.get("experts", [])}


def _results(rows: list[dict[str, Any]], names: dict[str, str], key: str = "result") -> list[printed.ExpertResult]:
    return [{"name": names.get(r["username"], r["username"]), "result": r.get(key)} for r in rows]


def _checklist_part(checklist: Checklist, kind: str, said: dict[str, Any]) -> printed.ChecklistPart:
    names = _names(said)
    by_criterion = {c["criterion"]: c for c in said.get("criteria", [])}
    by_category = {c["category"]: c for c in said.get("categories", [])}
    categories: list[printed.CategoryRow] = []
    for category in checklist.categories:
        rows: list[printed.CriterionRow] = []
        for criterion in category.criteria:
            found = by_criterion.get(criterion.id, {})
            rows.append(
                {
                    "id": criterion.id,
                    "text": criterion.text,
                    "only_for": ""
                    if criterion.applies(kind)
                    else "、".join(KIND_WORDS.get(k, k) for k in criterion.applies_to),
                    "agreement": found.get("agreement", "pending"),
                    "results": _results(found.get("results", []), names),
                    "evidence": [
                        {
                            "check": e["check"],
                            "name": check_names.name_of(e["check"]),
                            "value": e["result"]["value"],
                            "threshold": e["result"]["threshold"],
                            "passed": e["result"]["passed"],
                        }
                        for e in found.get("evidence", [])
                        if e.get("result")
                    ],
                }
            )
        found = by_category.get(category.id, {})
        categories.append(
            {
                "id": category.id,
                "title": category.title,
                "preamble": category.preamble,
                "rule": category.rule,
                "agreement": found.get("agreement", "pending"),
                "results": _results(found.get("results", []), names),
                "criteria": rows,
            }
        )
    return {
        "annex": checklist.annex,
        "title": checklist.title,
        "group": checklist.group,
        "conclusion_label": checklist.conclusion_label,
        "categories": categories,
    }


def _sheets(session: Session, application_id: int, store: BlobStore) -> list[printed.Sheet]:
    members = panel_members(session, application_id)
    sheets = {
        s.expert_id: s
        for s in session.scalars(select(ChecklistSheet).where(ChecklistSheet.application_id == application_id))
    }
    out: list[printed.Sheet] = []
    for member in members:
        sheet = sheets.get(member.user_id)
        submitted = sheet is not None and sheet.submitted_at is not None
        answers: dict[str, printed.Answer] = {}
        photos: list[printed.Photo] = []
        if sheet is not None and submitted:  # a draft changes until the expert signs: only signed sheets count
            for a in session.scalars(select(ChecklistAnswer).where(ChecklistAnswer.sheet_id == sheet.id)):
                score = str(a.score) if a.score is not None else None
                answers[a.criterion] = {"result": a.result, "score": score, "note": a.note}
            rows = session.scalars(
                select(ChecklistPhoto)
                .where(ChecklistPhoto.sheet_id == sheet.id)
                .order_by(ChecklistPhoto.taken_at, ChecklistPhoto.id)
            )
            photos = [
                {
                    "criterion": p.criterion,
                    "data": _blob(store, p.blob_key, p.sha256),
                    "sha256": p.sha256,
                    "taken_at": _local(p.taken_at),
                    "latitude": p.latitude,
                    "longitude": p.longitude,
                    "accuracy_m": p.accuracy_m,
                }
                for p in rows
            ]
        out.append(
            {
                "name": member.user.display_name or member.user.username,
                "leader": member.is_leader,
                "submitted_at": _local(sheet.submitted_at) if sheet is not None and submitted else "",
                "signed_name": (sheet.signed_name or "") if sheet is not None else "",
                "signature": _blob(store, sheet.signature_key, sheet.signature_sha256) if sheet and submitted else None,
                "answers": answers,
                "photos": photos,
            }
        )
    return out


def dossier(
    session: Session,
    application: Application,
    checklist: Checklist,
    conclusion: PanelConclusion | None,
    store: BlobStore,
) -> printed.Dossier:
    """Everything the record prints, as plain data."""
    members = panel_members(session, application.id)
    employers = {
        p.user_id: p.employer_name
        for p in session.scalars(
            select(ExpertProfile).where(ExpertProfile.user_id.in_([m.user_id for m in members] or [-1]))
        )
    }
    visit = session.scalars(select(SiteVisit).where(SiteVisit.application_id == application.id)).one_or_none()
    draws = session.scalars(
        select(PanelDraw).where(PanelDraw.application_id == application.id).order_by(PanelDraw.number)
    )
    # Once concluded, the consensus the leader concluded on; before, as the signed sheets stand now.
    said = conclusion.consensus if conclusion is not None else consensus(session, application, checklist)
    names = _names(said)
    conclusion_part: printed.ConclusionPart | None = None
    if conclusion is not None:
        leader = session.get(User, conclusion.leader_id) if conclusion.leader_id else None
        overall = said.get("overall", {})
        conclusion_part = {
            "result": conclusion.result,
            "reasons": conclusion.reasons,
            "leader": (leader.display_name or leader.username) if leader else "",
            "concluded_at": _local(conclusion.concluded_at),
            "agreement": overall.get("agreement", "pending"),
            "findings": _results(overall.get("findings", []), names, key="finding"),
        }
    organisation = application.organisation
    return {
        "application": {
            "number": str(application.id),
            "project_name": application.project_name,
            "unit": organisation.name,
            "uscc": organisation.uscc,
            "kind": KIND_WORDS.get(application.kind, application.kind),
            "district": application.district or "",
        },
        "visit": {
            "at": _local(visit.visit_at),
            "place": visit.place,
            "note": visit.note,
            "steps": [
                {"label": label, "notes": notes}
                for (label, _en), notes in zip(
                    site_visit.STEPS.values(), (visit.presentation_notes, visit.inspection_notes), strict=True
                )
            ],
        }
        if visit
        else None,
        "panel": [
            {
                "name": m.user.display_name or m.user.username,
                "leader": m.is_leader,
                "employer": employers.get(m.user_id, ""),
            }
            for m in members
        ],
        "draws": [
            f"第{d.number}次{DRAW_WORDS.get(d.reason, d.reason)}（{_local(d.created_at)}，候选{len(d.pool)}人，"
            f"随机种子 {d.seed}）"
            for d in draws
        ],
        "checklist": _checklist_part(checklist, application.kind, said),
        "sheets": _sheets(session, application.id, store),
        "conclusion": conclusion_part,
        "generated_at": _local(utcnow()),
        "evidence": _evidence_part(session, said),
    }


# What each picture shows, under it in the record (the pictures carry codes, dates and numbers only).
PICTURE_WORDS = {
    "daily": "按级别和能源品种的日用量（曲线断开处为无数据的日期）",
    "completeness": "各表计每日数据完整率（红色为缺失，绿色为完整）",
    "gaps": "各表计 1 小时及以上的数据中断",
    "pue": "逐月 PUE（虚线为上海市淘汰数据中心的 PUE 水平）",
}


def _evidence_part(session: Session, said: dict[str, Any]) -> printed.EvidencePart | None:
    """The snapshot whose figures the consensus shows beside the criteria, with its pictures as PNG."""
    shown = [e["result"] for c in said.get("criteria", []) for e in c.get("evidence", []) if e.get("result")]
    if not shown:
        return None
    snapshot = session.get(EvidenceSnapshot, shown[0]["snapshot_id"])
    if snapshot is None:
        return None
    pictures: list[printed.EvidencePicture] = []
    for chart in dict.fromkeys(r["chart"] for r in shown if r.get("chart")):
        try:
            pictures.append(
                {"caption": PICTURE_WORDS.get(chart, chart), "png": charts.render(snapshot.figures, chart, "png")}
            )
        except charts.NoChart:
            continue
    return {
        "snapshot_id": snapshot.id,
        "period": f"{snapshot.period_start} 至 {snapshot.period_end}",
        "taken_at": _local(snapshot.taken_at),
        "rules": snapshot.rules,
        "sha256": snapshot.sha256,
        "pictures": pictures,
    }


def record_document(session: Session, actor: Actor, application_id: int, store: BlobStore) -> tuple[str, bytes]:
    """The record as .docx for someone who may read it: (filename, bytes). Not visible: NotFound, as if absent."""
    definitions = programme_definitions(session)
    application = visible_or_not_found(session, actor, application_id, definitions=definitions)
    why, checklist, conclusion = refusal(session, actor, application, definitions[application.programme_version_id])
    if why is not None:
        raise why
    assert checklist is not None
    data = printed.verification_record(dossier(session, application, checklist, conclusion, store))
    return filename(application), data


def archived_document(session: Session, application: Application, definition: Definition, store: BlobStore) -> bytes:
    """The concluded record as printed, for the application's archive package (packed by the system, for no
    reader: no reader's role applies). The application must have a conclusion."""
    checklist = for_application(definition, application.kind)
    conclusion = conclusion_of(session, application.id)
    if checklist is None or conclusion is None:
        raise NotFound(f"application {application.id} has no concluded site verification")
    return printed.verification_record(dossier(session, application, checklist, conclusion, store))
