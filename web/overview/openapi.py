"""OpenAPI paths and schemas for the overview area: the commission's figures."""

from __future__ import annotations

from typing import Any

from web.core.openapi import INT, STR, nullable, obj, ok, problem_responses, ref

NUMBER = {"type": "number"}

SCHEMAS: dict[str, Any] = {
    "Overview": obj(
        {
            "total": INT,
            "today": {"type": "string", "format": "date", "description": "the day counted from (Beijing)"},
            "by_state": {
                "type": "array",
                "items": obj({"programme": STR, "state": STR, "district": nullable(STR), "count": INT}),
            },
            "desks": {
                "type": "array",
                "items": obj(
                    {
                        "role": STR,
                        "states": {"type": "array", "items": STR},
                        "count": INT,
                        "median_days": nullable(NUMBER),
                        "worst_days": nullable(INT),
                        "worst_application": nullable(INT),
                    }
                ),
            },
            "supplements": obj({"overdue": INT, "due_soon": INT}),
            "verdicts": {
                "type": "array",
                "items": obj({"kind": STR, "passed": INT, "failed": INT, "pass_rate": nullable(NUMBER)}),
            },
            "budgets": {"type": "array", "items": ref("BudgetLine")},
        }
    ),
}

PATHS: dict[str, Any] = {
    "/overview": {
        "get": {
            "operationId": "overview",
            "summary": "The commission's figures, within what the caller may see: applications by programme, state "
            "and district; each desk's count, median and worst waiting (whole days); supplements overdue and due "
            "within 3 working days; site-verification verdicts by applicant kind; budgets (for the ledger's readers)",
            "responses": {"200": ok("The figures", ref("Overview")), **problem_responses(401, 403)},
        }
    },
}
