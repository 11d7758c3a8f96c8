"""The budget ledger as .xlsx (issue 15 item 8): the rows the page shows, from the same query."""

from __future__ import annotations

import io
from typing import Any

from flask import abort
from flask_babel import gettext
from flask_login import login_required

from review import budgets
from storage import sheets
from web.core.actor import me
from web.core.api import xlsx_response
from web.core.page_forms import N_
from web.core.pages import local_time
from web.funding import ledger
from web.funding.blueprints import pages as bp
from workflow.db import db, utcnow

HEADER = (
    N_("Programme"),
    N_("Year"),
    N_("Budget"),
    N_("Reserved"),
    N_("Committed"),
    N_("Paid"),
    N_("Available"),
    N_("Balances with its awards"),
)


@bp.get("/funding/budgets.xlsx")
@login_required
def ledger_export() -> Any:
    """Budget, reserved, committed, paid and available per programme and year, as the ledger page lists them."""
    if not ledger.may_read(me()):
        abort(403)
    rows = [
        [
            b.programme,
            b.year,
            b.amount,
            b.reserved,
            b.committed,
            b.paid,
            b.available,
            gettext("yes") if b.balances else gettext("no"),
        ]
        for b in budgets.ledger(db.session)
    ]
    title = f"{gettext('Budget ledger')}（{local_time(utcnow())}）"
    out = io.BytesIO()
    sheets.write(out, gettext("Budget ledger"), title, [gettext(h) for h in HEADER], rows)
    return xlsx_response(out.getvalue(), "budgets.xlsx")
