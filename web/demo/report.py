"""The report `manage.py demo` prints: each scenario's timeline, then every check."""

from __future__ import annotations

from web.demo.runner import DemoResult
from workflow.definitions import Definition
from workflow.workdays import SHANGHAI


def _state(definition: Definition | None, state: str | None) -> str:
    if state is None:
        return ""
    if definition is None:
        return state
    return f"{definition.state_label(state, 'zh')} ({definition.state_label(state, 'en')})"


def render(result: DemoResult) -> list[str]:
    """The report the `demo` command prints: each timeline, then every check."""
    lines: list[str] = []
    for n, run in enumerate(result.runs, start=1):
        sc = run.scenario
        lines.append(f"[{n}] {sc.title} — {sc.programme} / {sc.kind} — 申请 #{run.application_id}《{sc.project_name}》")
        lines.append(
            f"    {'seq':>5}  {'time (Asia/Shanghai)':<19}  {'actor':<16} {'role':<19} {'trigger':<22} from → to"
        )
        for e in run.timeline:
            when = e.occurred_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
            if e.outcome == "transition":
                what = f"{_state(run.definition, e.from_state)} → {_state(run.definition, e.to_state)}"
            elif e.outcome == "denied":
                what = f"✗ refused ({e.detail}), stays {_state(run.definition, e.from_state)}"
            elif e.outcome == "created":
                what = f"created → {_state(run.definition, e.to_state)}"
            else:
                what = f"{e.outcome} {e.detail}, stays {_state(run.definition, e.to_state)}"
            trigger = e.trigger or f"({e.outcome})"
            lines.append(f"    {e.seq:>5}  {when:<20} {e.actor:<16} {e.role:<19} {trigger:<22} {what}")
        lines.append("")
    lines.append("Checks")
    for run in result.runs:
        head = f"#{run.application_id} {run.scenario.title}"
        if run.ok:
            moves = [e for e in run.timeline if e.outcome == "transition"]
            via = f" from {_state(run.definition, moves[-1].from_state)}" if moves else ""
            lines.append(f"  ✓ {head}: ends {_state(run.definition, run.state)}{via}, timeline as expected")
        else:
            lines.append(f"  ✗ {head}: " + "; ".join(run.problems))
    for r in result.refusals:
        mark = "✓" if r.ok else "✗"
        got = f"{r.got}: {r.detail}" if r.got else "it was allowed"
        lines.append(f"  {mark} refused: {r.why} ({r.actor} {r.trigger} on #{r.application_id}) → {got}")
    lines.append(f"  {'✓' if result.audit.ok else '✗'} {result.audit}")
    for b in result.ledger:
        lines.append(
            f"  {'✓' if b.balances else '✗'} budget {b.programme} {b.year}: {b.amount:,.2f} = available "
            f"{b.available:,.2f} + reserved {b.reserved:,.2f} + committed {b.committed:,.2f} + paid {b.paid:,.2f}"
            f"{', balances with its awards and payments' if b.balances else ', does NOT balance with its awards'}"
        )
    for app_id, found in result.packages:
        verdict = "verifies: every hash, the signature and the audit events" if not found else "; ".join(found)
        lines.append(f"  {'✓' if not found else '✗'} archive package of #{app_id} {verdict}")
    if result.mail is not None:
        m = result.mail
        where = "to the log (SMTP_URL is unset)" if m.logged else "over SMTP"
        mark = "✓" if m.sent and not m.failed else "✗"
        lines.append(
            f"  {mark} notifications: {m.notifications} in the inboxes of {m.readers} people (/inbox); "
            f"{m.sent} mails sent {where}, {m.failed} not delivered"
        )
    if result.waiting:
        lines.append("")
        lines.append("Waiting at the desks (log in as the account named, with the demo password `init --demo` printed)")
        for run in result.waiting:
            mark = "✓" if run.ok else "✗"
            where = _state(run.definition, run.state)
            detail = "" if run.ok else " — " + "; ".join(run.problems)
            lines.append(
                f"  {mark} #{run.application_id} {run.scenario.title}: {where} → {run.scenario.waits_for}{detail}"
            )
    return lines
