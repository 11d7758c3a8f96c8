"""The key energy-using unit list (seed 000 §二(一)): the import refuses every bad row and is idempotent; the
monitoring fund's submit and resubmit need the applicant on the list of the year its form names."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from review import keyunits
from review.models import KeyEnergyUnit
from tests import factories
from workflow.accounts import SYSTEM
from workflow.db import db
from workflow.engine import fire
from workflow.errors import Forbidden, GuardFailed, InvalidInput
from workflow.models import Application, AuditEvent
from workflow.registry import Context
from workflow.visibility import programme_definitions

# Seed 000 §二(一): "《上海市2021年度重点用能（排放）单位名单》".
YEAR = 2021
A = factories.uscc()
B = factories.uscc()


def _csv(*rows: str, header: str = "uscc,name,year") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _on_list(year: int = YEAR) -> dict[str, str]:
    with db.transaction() as session:
        return {r.uscc: r.name for r in session.scalars(select(KeyEnergyUnit).where(KeyEnergyUnit.year == year))}


def _imports() -> list[AuditEvent]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.outcome == "key_units_listed")))


def _problems(error: InvalidInput | GuardFailed) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in error.problems}


def test_an_import_adds_the_years_units_and_is_audited_once():
    data = _csv(f"{A},上海张江制药有限公司,2021", f"{B},上海临港算力数据中心有限公司,2021")
    result = keyunits.import_file(SYSTEM, data, YEAR, "2021.csv")
    assert (result.added, result.renamed, result.unchanged, result.on_list) == (2, 0, 0, 2)
    assert _on_list() == {A: "上海张江制药有限公司", B: "上海临港算力数据中心有限公司"}
    (event,) = _imports()
    assert (event.actor, event.application_id) == ("system", None)
    assert event.payload["year"] == YEAR and event.payload["added"] == 2


def test_importing_the_same_file_again_changes_nothing():
    data = _csv(f"{A},上海张江制药有限公司,2021")
    keyunits.import_file(SYSTEM, data, YEAR)
    before = _on_list()
    again = keyunits.import_file(SYSTEM, data, YEAR)
    assert (again.added, again.renamed, again.unchanged, again.changed) == (0, 0, 1, False)
    assert _on_list() == before
    assert len(_imports()) == 1  # nothing changed: no second event


def test_a_corrected_name_is_updated_and_no_unit_is_dropped():
    keyunits.import_file(SYSTEM, _csv(f"{A},张江制药,2021", f"{B},临港算力,2021"), YEAR)
    result = keyunits.import_file(SYSTEM, _csv(f"{A},上海张江制药有限公司,2021"), YEAR)
    assert (result.added, result.renamed, result.on_list) == (0, 1, 2)
    assert _on_list() == {A: "上海张江制药有限公司", B: "临港算力"}


def test_every_bad_row_is_named_with_its_line_and_nothing_is_imported():
    bad_check_digit = A[:17] + ("0" if A[17] != "0" else "1")
    data = _csv(
        f"{A},上海张江制药有限公司,2021",  # line 2: fine
        f"{bad_check_digit},校验位错误的单位,2021",  # line 3
        f"{B},,2021",  # line 4: no name
        f"{B},年度不符的单位,2022",  # line 5: another year
        f"{factories.uscc()},一千年前的单位,1066",  # line 6: a year no list can have
        "只有两列,2021",  # line 7
    )
    with pytest.raises(InvalidInput) as refused:
        keyunits.import_file(SYSTEM, data, YEAR)
    assert _problems(refused.value) == {
        ("lines[3].uscc", "invalid_uscc"),
        ("lines[4].name", "required"),
        ("lines[5].uscc", "duplicate"),
        ("lines[5].year", "other_year"),
        ("lines[6].year", "impossible_year"),
        ("lines[7].row", "wrong_columns"),
    }
    messages = {p.field: p.message for p in refused.value.problems}
    assert messages["lines[3].uscc"].startswith(f"第 3 行 uscc：统一社会信用代码“{bad_check_digit}”有误")
    assert "1066" in messages["lines[6].year"]
    assert "与导入的名单年度 2021 不符" in messages["lines[5].year"]
    assert _on_list() == {} and _imports() == []


@pytest.mark.parametrize(
    ("data", "year", "problem"),
    [
        (_csv(f"{A},单位,2021", header="code,name,year"), YEAR, ("lines[1]", "bad_header")),
        (_csv(), YEAR, ("file", "empty")),
        (b"\xff\xfe\x00u", YEAR, ("file", "not_utf8")),
        (_csv(f"{A},单位,1066"), 1066, ("year", "impossible_year")),
    ],
    ids=["header", "no-rows", "not-utf8", "impossible-year"],
)
def test_a_file_or_year_that_cannot_be_a_list_is_refused(data, year, problem):
    with pytest.raises(InvalidInput) as refused:
        keyunits.import_file(SYSTEM, data, year)
    assert problem in _problems(refused.value)


def test_a_utf8_bom_from_a_spreadsheet_is_accepted():
    assert keyunits.import_file(SYSTEM, b"\xef\xbb\xbf" + _csv(f"{A},上海张江制药有限公司,2021"), YEAR).added == 1


def test_only_the_market_regulator_an_administrator_or_the_cli_imports(cast):
    data = _csv(f"{A},上海张江制药有限公司,2021")
    with pytest.raises(Forbidden):
        keyunits.import_file(cast.applicant, data, YEAR)
    assert keyunits.import_file(cast.market_regulator, data, YEAR).added == 1
    assert _imports()[0].actor == cast.market_regulator.username


# --- the guard on the monitoring fund's submit and resubmit ---------------------------------------------------------


def _draft(cast: factories.Cast, year: int = YEAR) -> int:
    """A monitoring-fund draft in an open round whose unit names `year`'s list (the factory lists the sample unit)."""
    app_id = factories.new_application(cast, "monitoring-fund")
    with db.transaction() as session:
        app = session.get(Application, app_id)
        assert app is not None
        app.form = {**app.form, "uscc": A, "key_unit_list_year": year}
    return app_id


def test_submit_needs_the_unit_on_the_imported_list_of_its_year(cast):
    app_id = _draft(cast)
    keyunits.import_file(SYSTEM, _csv(f"{B},另一家单位,2021"), YEAR)
    with pytest.raises(GuardFailed) as refused:
        fire(app_id, "submit", cast.applicant)
    (problem,) = [p for p in refused.value.problems if p.code == "not_on_key_unit_list"]
    assert problem.field == "uscc"
    assert f"统一社会信用代码 {A} 不在已导入的2021年度重点用能（排放）单位名单上" in problem.message
    assert factories.state_of(app_id)[0] == "draft"

    keyunits.import_file(SYSTEM, _csv(f"{A},上海张江制药有限公司,2021"), YEAR)
    assert fire(app_id, "submit", cast.applicant).state == "technical_review"


def test_submit_says_when_the_years_list_has_not_been_imported(cast):
    app_id = _draft(cast, year=2019)
    with pytest.raises(GuardFailed) as refused:
        fire(app_id, "submit", cast.applicant)
    assert ("key_unit_list_year", "key_unit_list_not_imported") in _problems(refused.value)
    assert "2019年度重点用能（排放）单位名单尚未导入" in refused.value.detail


def test_the_list_of_another_year_does_not_count(cast):
    app_id = _draft(cast, year=2020)
    keyunits.import_file(SYSTEM, _csv(f"{A},上海张江制药有限公司,2021"), YEAR)
    with pytest.raises(GuardFailed) as refused:
        fire(app_id, "submit", cast.applicant)
    assert ("key_unit_list_year", "key_unit_list_not_imported") in _problems(refused.value)


def test_without_a_credit_code_on_the_form_the_organisations_counts(cast):
    app_id = _draft(cast)
    with db.transaction() as session:
        app = session.get(Application, app_id)
        assert app is not None
        app.form = {k: v for k, v in app.form.items() if k != "uscc"}
    keyunits.import_file(SYSTEM, _csv(f"{cast.org.uscc},{cast.org.name},2021", f"{B},另一家单位,2021"), YEAR)
    with db.transaction() as session:
        app = session.get(Application, app_id)
        assert app is not None
        # Through the guard itself: the form's own rules would refuse a form without its credit code first.
        definition = programme_definitions(session)[app.programme_version_id]
        transition = definition.transition("submit", "draft")
        assert transition is not None
        ctx = Context(session, app, cast.applicant, "submit", {}, definition, transition, "draft")
        assert list(keyunits.on_key_unit_list(ctx)) == []  # the organisation's code is on the list


def test_resubmit_checks_the_list_too(cast):
    app_id = _draft(cast)
    keyunits.import_file(SYSTEM, _csv(f"{A},上海张江制药有限公司,2021"), YEAR)
    factories.drive_to(cast, app_id, "returned")
    with db.transaction() as session:
        app = session.get(Application, app_id)
        assert app is not None
        app.form = {**app.form, "uscc": B}  # corrected to a unit that is not on the list
    with pytest.raises(GuardFailed) as refused:
        fire(app_id, "resubmit", cast.applicant)
    assert ("uscc", "not_on_key_unit_list") in _problems(refused.value)
