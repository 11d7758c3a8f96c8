"""The funding area's pages: the budget ledger."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template
from flask_login import login_required

from review import budgets
from web.core.actor import me
from web.funding import ledger
from web.funding.blueprints import pages as bp
from workflow.db import db


@bp.get("/funding/budgets")
@login_required
def budget_ledger() -> Any:
    """Budget, reserved, committed, paid and available per programme and year, each checked against its awards."""
    if not ledger.may_read(me()):
        abort(403)
    return render_template("funding_budgets.html", lines=budgets.ledger(db.session))
