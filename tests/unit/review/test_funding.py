"""Version 2's award check (issue 10 item 6), kept for the applications pinned to it: the proposed award is money,
positive yuan with at most two decimals, finite, at most the project's declared investment and at most the
configured ceiling. Version 3's rule and budget are tested in test_awards.py."""

from __future__ import annotations

import pytest

from review import funding as funding_rules
from tests import factories
from workflow.engine import fire
from workflow.errors import GuardFailed


@pytest.fixture(params=["emc-acceptance", "monitoring-fund"])
def funding(request, cast) -> int:
    """An application of each programme at the funding review."""
    app_id = factories.new_application(cast, request.param)
    factories.drive_to(cast, app_id, "funding_review")
    factories.pin_to_version(app_id, 2)
    return app_id


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("-5", "not_positive"),
        ("0", "not_positive"),
        (-1200, "not_positive"),
        ("NaN", "not_positive"),
        ("Infinity", "not_positive"),
        ("1000.005", "too_precise"),
        (0.001, "too_precise"),
        ("五十万", "not_a_number"),
        ("500,000", "not_a_number"),
        (True, "not_a_number"),
    ],
)
def test_bad_amount_is_refused(cast, funding, amount, code):
    """Each kind of bad amount is named with its own code; the application stays in funding review."""
    with pytest.raises(GuardFailed) as excinfo:
        fire(funding, "propose_award", cast.finance_officer, {"amount": amount})
    assert [(p.field, p.code) for p in excinfo.value.problems] == [("amount", code)]
    assert factories.state_of(funding)[0] == "funding_review"


@pytest.mark.parametrize("amount", [None, "", "  "], ids=["missing", "empty", "blank"])
def test_missing_amount_is_required(cast, funding, amount):
    """No amount at all is named as required."""
    payload = {} if amount is None else {"amount": amount}
    with pytest.raises(GuardFailed) as excinfo:
        fire(funding, "propose_award", cast.finance_officer, payload)
    assert ("amount", "required") in [(p.field, p.code) for p in excinfo.value.problems]


@pytest.mark.parametrize("amount", ["300000", "300000.5", "123456.78", 200000, 99.9])
def test_good_amount_is_accepted(cast, funding, amount):
    """Whole yuan, jiao and fen are all fine, as text or as a JSON number."""
    assert fire(funding, "propose_award", cast.finance_officer, {"amount": amount}).state == "award_proposed"


def test_an_amount_of_1e309_is_refused_and_cannot_be_approved(cast, funding):
    """The probe: 1e309 passed as an award and could be approved."""
    with pytest.raises(GuardFailed) as excinfo:
        fire(funding, "propose_award", cast.finance_officer, {"amount": "1e309"})
    assert [p.code for p in excinfo.value.problems] == ["above_ceiling"]
    assert factories.state_of(funding)[0] == "funding_review"


def test_the_award_is_at_most_the_declared_investment(cast):
    """The sample form declares 项目总投资 180.00 万元: 1,800,000.00 yuan is the most, a fen more is refused."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "funding_review")
    factories.pin_to_version(app_id, 2)
    with pytest.raises(GuardFailed) as excinfo:
        fire(app_id, "propose_award", cast.finance_officer, {"amount": "1800000.01"})
    assert [p.code for p in excinfo.value.problems] == ["above_investment"]
    assert "1,800,000.00" in excinfo.value.problems[0].message
    assert fire(app_id, "propose_award", cast.finance_officer, {"amount": "1800000.00"}).state == "award_proposed"


def test_the_ceiling_is_a_setting(cast, app):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "funding_review")
    factories.pin_to_version(app_id, 2)
    funding_rules.configure("100000")
    try:
        with pytest.raises(GuardFailed) as excinfo:
            fire(app_id, "propose_award", cast.finance_officer, {"amount": "100000.01"})
        assert [p.code for p in excinfo.value.problems] == ["above_ceiling"]
        assert fire(app_id, "propose_award", cast.finance_officer, {"amount": "100000"}).state == "award_proposed"
    finally:
        funding_rules.configure(app.config["AWARD_CEILING_YUAN"])
