"""The treasury's payment batch (issue 13 item 3): the payments with a value date in a period, as .xlsx.

Only applications the reader may see (the one visibility function); amounts in yuan as numbers with two decimals,
a total row, the period and the time it was drawn up in the heading. Written row by row (openpyxl's write-only mode).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from review.models import Payment
from storage import sheets
from workflow.accounts import Actor, Organisation
from workflow.errors import InvalidInput, Problem
from workflow.models import Application
from workflow.visibility import visible_applications

HEADER = ("序号", "申请编号", "单位名称", "统一社会信用代码", "项目名称", "金额（元）", "起息日", "银行流水号")


@dataclass(frozen=True)
class PaymentLine:
    application_id: int
    unit: str
    uscc: str
    project: str
    amount: Decimal
    value_date: dt.date
    reference: str


def batch(session: Session, actor: Actor, since: dt.date, until: dt.date) -> list[PaymentLine]:
    """The payments with a value date from `since` to `until` (both included) of applications `actor` may see."""
    if until < since:
        message = f"the period ends ({until}) before it starts ({since})"
        raise InvalidInput(message, [Problem("until", "before_since", message)])
    query = (
        visible_applications(session, actor)
        .join(Payment, Payment.application_id == Application.id)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(Payment.value_date >= since, Payment.value_date <= until)
        .order_by(Payment.value_date, Payment.id)
        .with_only_columns(
            Application.id, Organisation.name, Organisation.uscc, Application.project_name,
            Payment.amount, Payment.value_date, Payment.bank_reference,
        )
    )  # fmt: skip
    return [PaymentLine(*row) for row in session.execute(query)]


def to_xlsx(lines: list[PaymentLine], since: dt.date, until: dt.date, drawn_up: str, out: BinaryIO) -> Decimal:
    """The batch as a workbook; returns its total."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("拨付批次")
    bold = Font(bold=True)

    def strong(value: object) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = bold
        return cell

    sheet.append([strong(f"专项资金拨付批次：起息日 {since} 至 {until}（编制于 {drawn_up}）")])
    sheet.append([strong(h) for h in HEADER])
    total = Decimal(0)
    for n, line in enumerate(lines, start=1):
        amount = WriteOnlyCell(sheet, value=line.amount)
        amount.number_format = "#,##0.00"
        day = WriteOnlyCell(sheet, value=line.value_date)
        day.number_format = "yyyy-mm-dd"
        texts = [sheets.safe(v) for v in (line.unit, line.uscc, line.project)]
        sheet.append([n, line.application_id, *texts, amount, day, sheets.safe(line.reference)])
        total += line.amount
    summed = strong(total)
    summed.number_format = "#,##0.00"
    sheet.append([strong("合计"), None, None, None, strong(f"{len(lines)} 笔"), summed, None, None])
    book.save(out)
    return total
