"""OpenAPI paths and schemas for the funding area: the budget ledger."""

from __future__ import annotations

from typing import Any

from web.core.openapi import INT, STR, obj, ok, problem_responses, ref

MONEY = {**STR, "pattern": r"^-?\d+\.\d{2}$", "description": "yuan, two decimals"}

SCHEMAS: dict[str, Any] = {
    "BudgetLine": obj(
        {
            "programme": STR,
            "year": INT,
            "amount": MONEY,
            "reserved": {**MONEY, "description": "held by proposals awaiting the second officer"},
            "committed": {**MONEY, "description": "approved, not yet paid"},
            "paid": MONEY,
            "available": {**MONEY, "description": "amount − reserved − committed − paid"},
            "balances": {"type": "boolean", "description": "each column equals the awards and payments behind it"},
        }
    ),
    "BudgetLedger": obj({"budgets": {"type": "array", "items": ref("BudgetLine")}}),
}

PATHS: dict[str, Any] = {
    "/budgets": {
        "get": {
            "operationId": "budgetLedger",
            "summary": "Each programme's budget per year: reserved, committed, paid, available (finance, oversight)",
            "description": "What moves it, through POST …/transitions (version 3 of both programmes): propose_award "
            "with payload {amount, comment} reserves — at most what the version's [award] rule gives (422 "
            "above_rule), less only with a comment (reason_required), within the year's budget (over_budget, "
            "no_budget); approve_award (a second officer) commits; send_back releases; record_payment with "
            "{payment_reference, amount, value_date} pays — the approved award exactly (not_the_award), on a value "
            "date not after today in Beijing time (in_future), once.",
            "parameters": [{"name": "programme", "in": "query", "required": False, "schema": STR}],
            "responses": {"200": ok("The ledger", ref("BudgetLedger")), **problem_responses(401, 403, 422)},
        }
    },
}
