"""`manage.py budget set` and `budget ledger`: a programme's budget per year, and what is held against it."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, cast

import click
from flask.cli import with_appcontext

from review import budgets, payments
from web.core.cli import operator
from workflow import operations
from workflow.accounts import SYSTEM
from workflow.db import db
from workflow.errors import InvalidInput
from workflow.workdays import SHANGHAI


@click.group("budget")
def budget_group() -> None:
    """Budgets: each programme's per year, and the ledger of what proposals, approvals and payments hold."""


@budget_group.command("set")
@click.argument("programme")
@click.argument("year", type=int)
@click.argument("amount")
@with_appcontext
def budget_set(programme: str, year: int, amount: str) -> None:
    """Set PROGRAMME's budget for YEAR to AMOUNT yuan (never below what is already reserved, committed and paid)."""
    try:
        value = Decimal(amount.replace(",", ""))
    except InvalidOperation:
        raise click.ClickException(f"AMOUNT must be a number of yuan, not '{amount}'") from None
    try:
        with db.transaction() as session:
            operations.current_programme(session, programme)  # a known programme, else the problem names them
            budget = budgets.set_budget(session, cast(Any, operator()), programme, year, value)
            line = f"{programme} {year}: budget {budget.amount:,.2f} yuan, available {budgets.available(budget):,.2f}"
    except InvalidInput as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(line)


@budget_group.command("ledger")
@click.option("--programme", default=None, help="Only this programme.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def budget_ledger(programme: str | None, as_json: bool) -> None:
    """Each budget: amount = available + reserved + committed + paid, and whether it balances with its awards."""
    with db.transaction() as session:
        lines = budgets.ledger(session, programme)
    if as_json:
        click.echo(json.dumps([line.as_dict() for line in lines], ensure_ascii=False, indent=1))
        return
    for b in lines:
        mark = "balances" if b.balances else "DOES NOT BALANCE with its awards"
        click.echo(
            f"{b.programme} {b.year}: {b.amount:,.2f} = available {b.available:,.2f} + reserved {b.reserved:,.2f} "
            f"+ committed {b.committed:,.2f} + paid {b.paid:,.2f} ({mark})"
        )
    if any(not b.balances for b in lines):
        raise SystemExit(1)


@click.group("payments")
def payments_group() -> None:
    """Payments: the treasury's batch of what was paid."""


@payments_group.command("export")
@click.option("--from", "since", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First value date.")
@click.option("--to", "until", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last value date (included).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The .xlsx.")
@with_appcontext
def payments_export(since: dt.datetime, until: dt.datetime, out: Path) -> None:
    """Write the payments with a value date in the period, with their total, as .xlsx for the treasury."""
    try:
        with db.transaction() as session:
            lines = payments.batch(session, SYSTEM, since.date(), until.date())
    except InvalidInput as exc:
        raise click.ClickException(exc.detail) from None
    drawn_up = dt.datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    with out.open("wb") as stream:
        total = payments.to_xlsx(lines, since.date(), until.date(), drawn_up, stream)
    click.echo(f"{out}: {len(lines)} payments, {total:,.2f} yuan, value dates {since.date()} to {until.date()}")


COMMANDS: tuple[click.Command, ...] = (budget_group, payments_group)
