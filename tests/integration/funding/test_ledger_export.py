"""The budget ledger as .xlsx (issue 15 item 8): the rows and figures the ledger page shows, for its readers only."""

from __future__ import annotations

import io
import re
from decimal import Decimal

from openpyxl import load_workbook

from tests import factories
from tests.support.pages import log_in


def test_the_ledger_export_holds_the_rows_the_page_shows(app, cast):
    factories.ensure_budget("emc-acceptance", "2500000")
    factories.ensure_budget("monitoring-fund", "1000000")
    browser = log_in(app, cast.finance_officer, "en")
    page = browser.get("/funding/budgets")
    table = page.text.split('id="ledger"', 1)[1].split("</table>", 1)[0]
    shown = re.findall(r"<code>([^<]+)</code></th><td>(\d+)</td>", table)
    amounts = re.findall(r'<td class="money">([\d,.]+)</td>', table)[::5]  # each row's budget
    assert 'id="export-ledger"' in page.text
    answer = browser.get("/funding/budgets.xlsx")
    assert answer.status_code == 200 and answer.headers["Content-Disposition"].startswith("attachment")
    rows = list(load_workbook(io.BytesIO(answer.data)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("Programme", "Year", "Budget")
    assert [(r[0], str(r[1])) for r in rows[2:]] == shown and len(shown) >= 2
    assert [Decimal(str(r[2])) for r in rows[2:]] == [Decimal(a.replace(",", "")) for a in amounts]
    assert log_in(app, cast.applicant).get("/funding/budgets.xlsx").status_code == 403
