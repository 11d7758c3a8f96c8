"""The treasury's payment batch (issue 13 item 3): the payments with a value date in a period, as .xlsx, for the
applications the reader may see, with a total that equals the sum of its rows."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from review import payments
from tests import factories
from tests.support.pages import log_in


def _paid(cast, times: int) -> list[int]:  # type: ignore[no-untyped-def]
    apps = []
    for _ in range(times):
        app_id = factories.new_application(cast)
        factories.drive_to(cast, app_id, "paid")
        apps.append(app_id)
    return apps


def _rows(data: bytes) -> list[tuple]:  # type: ignore[type-arg]
    sheet = load_workbook(io.BytesIO(data)).active
    return [tuple(c.value for c in row) for row in sheet.iter_rows()]


def test_the_command_writes_each_payment_and_the_total(runner, cast, tmp_path):
    apps = _paid(cast, 2)
    today = factories.shanghai_today().isoformat()
    out = tmp_path / "batch.xlsx"
    done = runner.invoke(args=["payments", "export", "--from", today, "--to", today, "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "2 payments, 702,000.00 yuan" in done.output  # the rule's 351,000 twice
    rows = _rows(out.read_bytes())
    assert rows[1] == payments.HEADER
    body = rows[2:-1]
    assert [r[1] for r in body] == apps and all(Decimal(str(r[5])) == Decimal("351000") for r in body)
    assert [r[7] for r in body] == [f"PAY-{a}" for a in apps]
    assert rows[-1][0] == "合计" and Decimal(str(rows[-1][5])) == Decimal("702000")
    backwards = runner.invoke(args=["payments", "export", "--from", today, "--to", "2000-01-01", "--out", str(out)])
    assert backwards.exit_code != 0 and "before it starts" in backwards.output


def test_the_page_serves_it_to_finance_only_and_says_what_is_wrong(app, cast):
    _paid(cast, 1)
    finance = log_in(app, cast.finance_officer)
    assert 'id="payment-batch"' in finance.get("/funding/budgets").text
    answer = finance.get("/funding/payments.xlsx")
    assert answer.status_code == 200 and answer.headers["Content-Disposition"].startswith("attachment")
    assert len(_rows(answer.data)) == 4  # heading, header, one payment, total
    assert finance.get("/funding/payments.xlsx?from=2026-13-01").status_code == 400
    assert log_in(app, cast.applicant).get("/funding/payments.xlsx").status_code == 403


def test_a_project_named_like_a_formula_stays_words_in_the_batch(app, cast):
    app_id = factories.new_application(cast, project_name="=1+1 节能改造")
    factories.drive_to(cast, app_id, "paid")
    answer = log_in(app, cast.finance_officer).get("/funding/payments.xlsx")
    sheet = load_workbook(io.BytesIO(answer.data)).active
    [row] = [r for r in sheet.iter_rows(min_row=3) if r[1].value == app_id]
    assert row[4].value == "'=1+1 节能改造" and row[4].data_type == "s"
