"""Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters, the last a check digit."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str, lang: str = "zh") -> str | None:
    """None if `code` is a valid USCC, else what is wrong with it, in Chinese (or English with lang="en")."""
    en = lang == "en"
    if len(code) != 18:
        return (
            f"a unified social credit code has 18 characters, not {len(code)}"
            if en
            else f"统一社会信用代码应为18位，现为{len(code)}位"
        )
    bad = "".join(sorted({c for c in code if c not in ALPHABET}))
    if bad:
        return (
            f"a unified social credit code uses digits and capitals except I, O, S, V, Z; found {bad}"
            if en
            else f"统一社会信用代码由数字和大写字母组成（不含 I、O、S、V、Z），出现了 {bad}"
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        return (
            f"check digit is {code[17]} but GB 32100 gives {expected} for {code[:17]}"
            if en
            else f"校验码应为 {expected}（按 GB 32100 由前17位 {code[:17]} 算出），不是 {code[17]}"
        )
    return None


def is_valid(code: str) -> bool:
    return problem(code) is None
