"""The funding area: `manage.py budget`, the ledger page and API, and the award card with the rule's arithmetic."""

from __future__ import annotations

import json

from review import budgets
from tests import factories
from tests.support.api import bearer, problem
from tests.support.openapi import Conformance
from tests.support.pages import fire_form, log_in, text_of
from tests.support.shell import openapi_document
from workflow.engine import fire


def test_budget_set_and_the_ledger_from_the_command_line(runner, cast):
    year = budgets.budget_year()
    set_it = runner.invoke(args=["budget", "set", "monitoring-fund", str(year), "1,000,000"])
    assert set_it.exit_code == 0, set_it.output
    assert f"monitoring-fund {year}: budget 1,000,000.00 yuan" in set_it.output
    unknown = runner.invoke(args=["budget", "set", "no-such-fund", str(year), "10"])
    assert unknown.exit_code != 0 and "no-such-fund" in unknown.output
    bad = runner.invoke(args=["budget", "set", "monitoring-fund", str(year), "一百万"])
    assert bad.exit_code != 0 and "AMOUNT must be a number of yuan" in bad.output
    fen = runner.invoke(args=["budget", "set", "monitoring-fund", str(year), "10.001"])
    assert fen.exit_code != 0 and "at most 2 decimals" in fen.output
    huge = runner.invoke(args=["budget", "set", "monitoring-fund", str(year), "1e309"])
    assert huge.exit_code != 0 and "under 1,000,000,000,000" in huge.output
    ledger = runner.invoke(args=["budget", "ledger", "--programme", "monitoring-fund", "--json"])
    assert ledger.exit_code == 0
    [line] = json.loads(ledger.output)
    assert line == {
        "programme": "monitoring-fund",
        "year": year,
        "amount": "1000000.00",
        "reserved": "0.00",
        "committed": "0.00",
        "paid": "0.00",
        "available": "1000000.00",
        "balances": True,
    }


def test_the_ledger_page_and_api_are_for_finance_and_oversight(app, client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "funding_review")
    fire(app_id, "propose_award", cast.finance_officer, {"amount": "351000.00"})
    page = log_in(app, cast.finance_officer).get("/funding/budgets")
    assert page.status_code == 200
    row = text_of(page).split("emc-acceptance", 1)[1]
    assert "100,000,000.00 351,000.00 0.00 0.00 99,649,000.00" in row  # budget, reserved, committed, paid, left
    assert log_in(app, cast.applicant).get("/funding/budgets").status_code == 403
    answer = client.get("/api/v1/budgets?programme=emc-acceptance", headers=bearer(client, cast.auditor))
    assert answer.status_code == 200
    Conformance(openapi_document(app)).check(answer, "/budgets", "get")
    [line] = answer.get_json()["budgets"]
    assert (line["reserved"], line["balances"]) == ("351000.00", True)
    problem(client.get("/api/v1/budgets", headers=bearer(client, cast.applicant)), 403, "forbidden")


def test_the_award_card_shows_the_rule_and_its_arithmetic_to_finance_only(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "funding_review")
    finance = log_in(app, cast.finance_officer)
    page = finance.get(f"/applications/{app_id}")
    assert 'id="award"' in page.text
    card = text_of(page)
    assert "本地设置" in card and "351,000.00" in card
    assert "(40.00 万元 + 90.00 万元 + 45.50 万元) × 10,000 × 0.20" in card
    assert 'name="propose_award-comment"' in page.text  # the reason for less, offered
    assert 'id="award"' not in log_in(app, cast.applicant).get(f"/applications/{app_id}").text

    refused = fire_form(finance, app_id, "propose_award", {"amount": "300000.00"})
    assert refused.status_code == 422 and "须在意见中写明理由" in refused.text
    done = fire_form(finance, app_id, "propose_award", {"amount": "300000.00", "comment": "软件投资核减"})
    assert done.status_code == 303
    shown = text_of(finance.get(f"/applications/{app_id}"))
    assert "300,000.00" in shown and "软件投资核减" in shown
