"""Properties of the form rules (hypothesis): any JSON is answered with problems, never an exception; the check
characters of USCC (GB 32100) and ID numbers (GB 11643) catch every single-character change; numbers round-trip."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from forms import idcard, uscc
from forms.checker import MAX_DIGITS, Checker, ratio
from forms.fields import ENERGY, FORMS, MONEY, NUMBER, FormVersion
from forms.rules import computed, validate
from forms.samples import sample_form
from workflow.errors import Problem

FAST = settings(max_examples=60, deadline=None)
KINDS = ("enterprise", "data_centre", "park", "nobody")
TODAY = dt.date(2026, 12, 6)

# JSON as a client could send it: scalars of every type, lists and objects, and the strings at and past the limits
# of a number, a date or a code (drawn as often as all the rest).
_edges = st.sampled_from([
    "NaN", "-Infinity", "Infinity", "sNaN", "1e999999", "1E-999999", "1,234.5", " 12 ", "0.001", "-0", "1e-7",
    "2026-02-30", "91310000MA1FL0000x", "١٢٣", "12345678901234567890",
])  # fmt: skip
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
json_values = _edges | st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# A replacement character: any, or a decimal digit of another script (int() reads "᧕" as 5).
_other_characters = st.characters(categories=("Nd",)) | st.characters(codec="utf-8")


@st.composite
def form_data(draw: st.DrawFn) -> tuple[FormVersion, str, dict[str, Any]]:
    """A form version, an applicant kind, and a body: the sample with some fields replaced by anything."""
    form = draw(st.sampled_from(sorted(FORMS.values(), key=lambda f: f.label)))
    kind = draw(st.sampled_from(KINDS))
    programme = "monitoring-fund" if form.code == "monitoring-fund" else "emc-acceptance"
    base = sample_form(programme, kind if kind in ("enterprise", "data_centre", "park") else "enterprise")
    keys = [f.key for f in form.fields] + ["no_such_field"]
    changes = draw(st.dictionaries(st.sampled_from(keys), json_values, max_size=8))
    return form, kind, {**base, **changes}


@FAST
@given(form_data(), st.booleans(), st.sampled_from(["zh", "en"]))
def test_any_json_is_answered_with_problems_never_an_exception(case, complete, lang):
    form, kind, data = case
    problems = validate(form, kind, data, complete=complete, lang=lang, today=TODAY)
    assert all(isinstance(p, Problem) and p.field and p.code and p.message for p in problems)
    assert all(v is None or Decimal(v) >= 0 for v in computed(form, kind, data).values())


def uscc_valid() -> st.SearchStrategy[str]:
    body = st.text(alphabet=uscc.ALPHABET, min_size=17, max_size=17)
    return body.map(lambda first17: first17 + uscc.check_character(first17))


@FAST
@given(uscc_valid(), _other_characters)
def test_a_generated_uscc_passes_and_any_single_character_change_fails(code, other):
    assert uscc.problem(code) is None
    for position in range(18):  # every position, to every character of the alphabet and one more
        for replacement in (*uscc.ALPHABET, other):
            changed = code[:position] + replacement + code[position + 1 :]
            if changed != code:
                assert uscc.problem(changed) is not None, changed


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY))
    first17 = draw(st.from_regex(r"[1-6][0-9]{5}", fullmatch=True)) + born.strftime("%Y%m%d")
    first17 += draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    return first17 + idcard.check_character(first17)


@FAST
@given(id_numbers(), _other_characters)
def test_a_generated_id_number_passes_and_any_single_character_change_fails(number, other):
    assert idcard.problem(number, today=TODAY) is None
    for position in range(18):
        for replacement in (*"0123456789X", other):
            changed = number[:position] + replacement + number[position + 1 :]
            if changed.upper() != number:  # the reader's lower-case x is the same number
                assert idcard.problem(changed, today=TODAY) is not None, changed


NUMERIC_FIELDS = [(form, f) for form in FORMS.values() for f in form.fields if f.type in (MONEY, ENERGY, NUMBER)]
PLACES = {MONEY: 2, ENERGY: 4, NUMBER: 4}


@st.composite
def numbers_in_range(draw: st.DrawFn) -> tuple[FormVersion, Any, Decimal, Any]:
    form, f = draw(st.sampled_from(NUMERIC_FIELDS))
    places = PLACES[f.type]
    units = draw(st.integers(0, 10 ** (MAX_DIGITS + places) - 1))
    value = Decimal(units).scaleb(-places)
    shown = draw(st.sampled_from(["plain", "grouped", "json"]))
    raw: Any = {"plain": f"{value:f}", "grouped": f"{value:,f}", "json": str(value)}[shown]
    return form, f, value, raw


@FAST
@given(numbers_in_range())
def test_a_number_within_its_places_and_digits_round_trips_exactly(case):
    form, f, value, raw = case
    checker = Checker(form, f.kinds[0] if f.kinds else "enterprise", today=TODAY)
    checker.parse(f, raw)
    assert checker.problems == []
    parsed = checker.values[f.key]
    assert isinstance(parsed, Decimal) and parsed == value
    again = Checker(form, "enterprise", today=TODAY)
    again.parse(f, str(parsed))  # what is kept reads back as itself
    assert again.values[f.key] == parsed


@FAST
@given(st.sampled_from(NUMERIC_FIELDS), st.integers(1, 10**6), st.integers(1, 3))
def test_one_decimal_too_many_or_a_sign_is_refused(case, units, extra):
    form, f = case
    too_precise = Decimal(units * 10 + 1).scaleb(-(PLACES[f.type] + extra))
    for raw, code in ((f"{too_precise:f}", "too_precise"), (f"-{units}", "negative")):
        checker = Checker(form, "enterprise", today=TODAY)
        checker.parse(f, raw)
        assert [p.code for p in checker.problems] == [code]


@FAST
@given(st.integers(0, 10**9), st.integers(1, 10**9))
def test_a_ratio_is_rounded_down_to_four_places_never_flattered(part, whole):
    share = ratio(part, whole)
    assert share is not None and share.as_tuple().exponent == -4
    exact = Decimal(part) / Decimal(whole)
    assert share <= exact < share + Decimal("0.0001")
