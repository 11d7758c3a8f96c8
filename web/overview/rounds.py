"""A round's summary as .docx, for those who may read the overview: the programme version's settings and its
figures (review.round_summary) put in the reader's words, laid out by storage.round_summary."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_babel import gettext
from flask_login import login_required

from review import budgets
from review.round_summary import RoundSummary, round_summary
from storage import round_summary as printed
from web.core.actor import me
from web.core.api import docx_response
from web.core.pages import kind_label, lang, local_time, role_label
from web.overview.blueprints import pages as bp
from web.overview.figures import may_read
from workflow.db import db, utcnow


def _days(value: float | int | None) -> str:
    return "—" if value is None else f"{value:g}"


def _money(value: Any) -> str:
    return f"{value:,.2f}"


def document(found: RoundSummary) -> printed.Summary:
    """The summary in the reader's language."""
    d, figures, language = found.definition, found.figures, lang()
    title = d.title.get(language) or d.title.get("zh") or d.code
    window = d.window
    opens = window.opens.isoformat() if window and window.opens else "—"
    closes = window.closes.isoformat() if window and window.closes else "—"
    # Values the seeds do not state, chosen for this round.
    settings = [(s.zh if language == "zh" else s.en, s.value) for s in d.local_settings]
    passed = sum(p for p, _ in figures.verdicts.values())
    failed = sum(f for _, f in figures.verdicts.values())
    facts = [
        (gettext("Programme"), title),
        (gettext("Code and version"), d.label),
        (gettext("Published"), local_time(found.published_at)),
        (gettext("Submission window"), f"{opens} – {closes}"),
        (gettext("Applications"), str(figures.total)),
        (gettext("Passed site verification"), str(passed)),
        (gettext("Failed site verification"), str(failed)),
        (gettext("Pass rate"), f"{passed / (passed + failed):.0%}" if passed + failed else "—"),
    ]
    verdicts = [
        (kind_label(kind), str(p), str(f), f"{p / (p + f):.0%}" if p + f else "—")
        for kind, (p, f) in sorted(figures.verdicts.items())
    ]
    districts = sorted(found.by_district().items(), key=lambda kv: kv[0] or "")
    tables = [
        printed.Table(gettext("Local settings"), (gettext("Setting"), gettext("Value")), settings),
        printed.Table(
            gettext("Applications by state"),
            (gettext("State"), gettext("Applications")),
            [(d.state_label(state, language), str(n)) for state, n in found.by_state()],
        ),
        printed.Table(
            gettext("Applications by district"),
            (gettext("District"), gettext("Applications")),
            [(district or gettext("(none)"), str(n)) for district, n in districts],
        ),
        printed.Table(
            gettext("Applications by applicant kind"),
            (gettext("Applicant kind"), gettext("Applications")),
            [(kind_label(kind), str(n)) for kind, n in sorted(found.by_kind.items())],
        ),
        printed.Table(
            gettext("Site verification by applicant kind"),
            (gettext("Applicant kind"), gettext("Passed"), gettext("Failed"), gettext("Pass rate")),
            verdicts,
        ),
        printed.Table(
            gettext("Waiting at each desk"),
            (gettext("Desk"), gettext("Waiting"), gettext("Median (days)"), gettext("Longest (days)")),
            [(role_label(w.role), str(w.count), _days(w.median_days), _days(w.worst_days)) for w in figures.desks],
        ),
    ]
    if figures.budget_lines:
        tables.append(
            printed.Table(
                gettext("Budgets"),
                (
                    gettext("Year"),
                    gettext("Budget"),
                    gettext("Reserved"),
                    gettext("Committed"),
                    gettext("Paid"),
                    gettext("Available"),
                ),
                [
                    (str(b.year), *(_money(v) for v in (b.amount, b.reserved, b.committed, b.paid, b.available)))
                    for b in figures.budget_lines
                ],
            )
        )
    reader = me()
    footer = gettext(
        "Counted within what %(who)s (%(role)s) may see, as of %(time)s (Beijing time).",
        who=reader.display_name or role_label(reader.role),
        role=role_label(reader.role),
        time=local_time(utcnow()),
    )
    heading = f"{title}（{d.label}）"
    return printed.Summary(gettext("Round summary: %(title)s", title=heading), facts, tables, footer)


@bp.get("/overview/rounds/<code>/<int:version>.docx")
@login_required
def round_docx(code: str, version: int) -> Any:
    """One round's summary (a programme version) as .docx."""
    user = me()
    if not may_read(user):
        abort(403)
    found = round_summary(db.session, user, code, version, with_budgets=user.role in budgets.LEDGER_READERS)
    if found is None:
        abort(404)
    return docx_response(printed.round_summary(document(found)), f"round-{code}-{version}.docx")
