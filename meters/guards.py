"""Guards that read the latest evidence snapshot (issue 12 §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meters import snapshots
from meters.evidence import shanghai
from meters.models import EvidenceSnapshot
from workflow.db import as_utc
from workflow.errors import Problem
from workflow.registry import Context, guard

REASON = "access_reason"  # the payload key of the reviewer's recorded reason


def _tier1(snapshot: EvidenceSnapshot) -> dict[str, Any] | None:
    return next((r for r in snapshot.results if r.get("check") == "ACCESS_RATIO_T1"), None)


@guard("tier1_access_or_reason")
def tier1_access_or_reason(ctx: Context) -> Iterator[Problem]:
    """Seed 002 附表1 2.1 "企业一级（关口）表具接入比例100％" (seed 000 §二(三) 推进关口能耗数据接入): the technical
    review passes only when the latest snapshot shows every tier-1 point live, or the reviewer records why anyway."""
    if str(ctx.payload.get(REASON) or "").strip():
        return  # recorded: the reason stays in the transition's audited payload
    snapshot = snapshots.latest(ctx.session, ctx.application.id)
    result = _tier1(snapshot) if snapshot is not None else None
    if snapshot is None or result is None:
        message = (
            "尚无表计证据快照，无法确认一级（关口）表具接入比例达到100％：请待快照生成或填写通过理由"
            "（no evidence snapshot yet shows tier-1 access at 100 %: wait for it, or record a reason）"
        )
        yield Problem(REASON, "no_evidence", message)
        return
    if result.get("passed") is True:
        return
    when = shanghai(as_utc(snapshot.taken_at))
    if result.get("value") is None:
        shown = "单位未登记一级表具应接入点数，无法计算"
        english = "the unit has registered no required tier-1 points, so it cannot be computed"
    else:
        shown = f"为 {float(result['value']):.2%}，低于 {float(result['threshold']):.0%}"
        english = f"is {float(result['value']):.2%}, below {float(result['threshold']):.0%}"
    message = (
        f"最新表计证据快照（{when}）中一级（关口）表具接入比例{shown}：技术审核通过须填写理由"
        f"（in the latest evidence snapshot, taken {when}, tier-1 access {english}: "
        "passing the technical review needs a recorded reason）"
    )
    yield Problem(REASON, "tier1_access_below", message)
