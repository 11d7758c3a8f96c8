"""Resident identity card numbers (GB 11643-1999): 18 characters, a birth date inside, a check character last."""

from __future__ import annotations

import datetime as dt
import re

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"  # indexed by (weighted sum mod 11)
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


def check_character(first17: str) -> str:
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def problem(number: str, today: dt.date | None = None) -> str | None:
    """None if `number` is a valid identity card number, else what is wrong with it, in Chinese."""
    value = number.strip().upper()
    if len(value) != 18:
        return f"身份证号码应为18位，现为{len(value)}位"
    if not _SHAPE.fullmatch(value):  # ASCII digits only: str.isdigit() also takes "᧕", and int() reads it as 5
        return "身份证号码前17位应为数字，末位为数字或X"
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return f"身份证号码中的出生日期 {value[6:14]} 不是有效日期"
    if not dt.date(1900, 1, 1) <= born <= (today or dt.date.today()):
        return f"身份证号码中的出生日期 {born} 不合理"
    expected = check_character(value[:17])
    if value[17] != expected:
        return f"身份证号码校验位应为 {expected}，不是 {value[17]}"
    return None


def is_valid(number: str) -> bool:
    return problem(number) is None


def masked(number: str) -> str:
    """What a screen shows: the first 3 and last 4 characters, the rest hidden."""
    value = number.strip().upper()
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
