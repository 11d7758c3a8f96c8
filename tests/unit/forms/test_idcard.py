"""Identity card numbers (GB 11643): the check character, the birth date inside, and masking."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forms.idcard import check_character, is_valid, masked, problem


def test_the_standards_own_example_is_valid():
    assert problem("11010519491231002X") is None
    assert is_valid("11010519491231002x")  # a lower-case x is accepted


@pytest.mark.parametrize(
    "number,says",
    [
        ("110105194912310021", "校验位应为 X"),
        ("11010519491331002X", "不是有效日期"),
        ("1101051949123100", "应为18位"),
        ("11010519491231002Y", "末位为数字或X"),
        ("110105219912310025", "不合理"),
    ],
)
def test_each_fault_is_named(number, says):
    assert says in (problem(number, today=dt.date(2026, 11, 21)) or "")


@given(
    st.from_regex(r"[1-6][0-9]{5}(19[5-9][0-9]|200[0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}", fullmatch=True)
)
def test_any_number_with_its_computed_check_character_is_valid_and_any_other_is_not(first17):
    good = first17 + check_character(first17)
    assert is_valid(good)
    for wrong in "0123456789X":
        if wrong != good[-1]:
            assert not is_valid(first17 + wrong)


def test_masking_keeps_only_the_first_three_and_last_four():
    assert masked("11010519491231002X") == "110***********002X"
    assert masked("123") == "***"
