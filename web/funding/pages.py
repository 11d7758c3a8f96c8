"""The funding area's pages: the budget ledger."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from flask import abort, render_template, request
from flask_login import login_required

from review import budgets, payments
from web.core.actor import me
from web.core.api import xlsx_response
from web.core.pages import local_time
from web.funding import ledger
from web.funding.blueprints import pages as bp
from workflow.db import db, utcnow
from workflow.errors import InvalidInput
from workflow.workdays import SHANGHAI


@bp.get("/funding/budgets")
@login_required
def budget_ledger() -> Any:
    """Budget, reserved, committed, paid and available per programme and year, each checked against its awards."""
    if not ledger.may_read(me()):
        abort(403)
    return render_template("funding_budgets.html", lines=budgets.ledger(db.session))


@bp.get("/funding/payments.xlsx")
@login_required
def payment_batch() -> Any:
    """The payments with a value date in ?from=…&to=… (default: this year, Beijing time), as .xlsx."""
    user = me()
    if not ledger.may_read(user):
        abort(403)
    today = dt.datetime.now(SHANGHAI).date()
    try:
        since = dt.date.fromisoformat(request.args.get("from") or f"{today.year}-01-01")
        until = dt.date.fromisoformat(request.args.get("to") or today.isoformat())
        lines = payments.batch(db.session, user, since, until)
    except (ValueError, InvalidInput):
        abort(400, description="from and to are dates (YYYY-MM-DD), from not after to")
    out = io.BytesIO()
    payments.to_xlsx(lines, since, until, local_time(utcnow()), out)
    return xlsx_response(out.getvalue(), f"payments-{since}-{until}.xlsx")
