"""The funding API: the budget ledger."""

from __future__ import annotations

from flask import Response, jsonify, request

from web.core.actor import me
from web.core.problems import ApiProblem
from web.funding import ledger
from web.funding.blueprints import api as bp


@bp.get("/budgets")
def budget_ledger() -> Response:
    """Each programme's budget per year: reserved, committed, paid, available, and whether it balances."""
    if not ledger.may_read(me()):
        raise ApiProblem(403, "forbidden", "the budget ledger is for finance, administration and oversight")
    return jsonify(budgets=ledger.lines(request.args.get("programme") or None))
