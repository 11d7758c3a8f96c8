"""Lists taken away as .xlsx: formulas stay words, and text an .xlsx cannot hold does not fail the export."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from openpyxl import load_workbook

from review.payments import PaymentLine, to_xlsx
from storage import sheets


def _cells(data: bytes) -> list[tuple[object, ...]]:
    return list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))


def test_a_control_character_in_a_unit_name_is_shown_as_a_replacement_mark():
    out = io.BytesIO()
    sheets.write(out, "列表", "申报列表", ["单位"], [["上海\x07某\x1b公司"], ["=\x00HYPERLINK()"]])
    assert [row[0] for row in _cells(out.getvalue())[2:]] == ["上海\ufffd某\ufffd公司", "'=\ufffdHYPERLINK()"]


def test_a_payment_batch_with_a_control_character_is_written():
    line = PaymentLine(
        7, "上海\x0b某公司", "91310000MA1FL0000X", "能源管理中心\x01", Decimal("1.00"), dt.date(2026, 12, 1), "R-1"
    )
    out = io.BytesIO()
    assert to_xlsx([line], dt.date(2026, 12, 1), dt.date(2026, 12, 31), "2026-12-06 10:00", out) == Decimal("1.00")
    [row] = _cells(out.getvalue())[2:-1]
    assert row[2:5] == ("上海\ufffd某公司", "91310000MA1FL0000X", "能源管理中心\ufffd")
