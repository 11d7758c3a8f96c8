"""manage.py experts …, panel verify and keyunits import, through Flask's CLI runner inside the per-test transaction."""

from __future__ import annotations

import shlex

from sqlalchemy import select

from review import panels
from review import pool as expert_pool
from review.models import ExpertProfile, ExpertRelationship, KeyEnergyUnit, PanelDraw
from tests import factories
from workflow.db import db
from workflow.models import Application, AuditEvent

SERVICE_USCC = "91310115MA1H7GXL27"


def _invoke(runner, command: str):  # type: ignore[no-untyped-def]
    return runner.invoke(args=shlex.split(command))


def _profile(user_id: int) -> ExpertProfile | None:
    with db.transaction() as session:
        return session.scalars(select(ExpertProfile).where(ExpertProfile.user_id == user_id)).one_or_none()


def test_experts_add_names_the_option_at_fault(runner, cast):
    base = f"--employer-uscc {SERVICE_USCC} --employer 上海节能咨询有限公司 --district 徐汇区"
    cases = {
        f"experts add nobody {base}": "USERNAME",
        f"experts add {cast.auditor.username} {base}": "USERNAME",
        f"experts add {cast.expert.username} {base.replace(SERVICE_USCC, '91310115MA1H7GXL2D')}": "--employer-uscc",
        f"experts add {cast.expert.username} {base.replace('徐汇区', '火星区')}": "--district",
    }
    for command, option in cases.items():
        result = _invoke(runner, command)
        assert result.exit_code == 2, result.output
        assert option in result.output
    assert _profile(cast.expert.id) is None


def test_experts_add_then_again_updates_and_list_shows_the_pool(runner, cast):
    added = _invoke(
        runner,
        f"experts add {cast.expert.username} --employer-uscc {SERVICE_USCC.lower()} --employer 甲咨询公司 "
        "--district 徐汇区 --speciality 电力 --speciality 暖通",
    )
    assert added.exit_code == 0, added.output
    assert f"{cast.expert.username} is in the pool: 甲咨询公司 ({SERVICE_USCC}), 徐汇区; 电力、暖通" in added.output
    other = factories.uscc()
    again = _invoke(
        runner, f"experts add {cast.expert.username} --employer-uscc {other} --employer 乙 --district 闵行区"
    )
    assert again.exit_code == 0, again.output
    profile = _profile(cast.expert.id)
    assert profile is not None
    assert (profile.employer_uscc, profile.district, profile.specialities) == (other, "闵行区", [])
    with db.transaction() as session:
        outcomes = session.scalars(
            select(AuditEvent.outcome)
            .where(AuditEvent.outcome.in_(["expert_added", "expert_updated"]))
            .order_by(AuditEvent.seq)
        ).all()
        assert list(outcomes) == ["expert_added", "expert_updated"]
        assert session.scalars(select(AuditEvent.actor).order_by(AuditEvent.seq.desc()).limit(1)).one() == "system"

    expert_pool.add_expert(cast.admin, cast.expert2.username, factories.uscc(), "丙", "徐汇区", ["电力"])
    listed = _invoke(runner, "experts list")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert [line.split()[0] for line in lines] == sorted([cast.expert.username, cast.expert2.username])
    only = _invoke(runner, "experts list --district 徐汇区")
    assert [line.split()[0] for line in only.output.splitlines()] == [cast.expert2.username]
    nobody = _invoke(runner, "experts list --speciality 核电")
    assert nobody.output.strip() == "no expert in the pool matches"


def test_experts_relate_records_a_tie_that_keeps_the_expert_off_the_panel(runner, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    expert_pool.add_expert(cast.admin, cast.expert.username, factories.uscc(), "甲", "徐汇区", [])
    refused = _invoke(runner, f"experts relate {cast.expert.username} --uscc 123")
    assert refused.exit_code == 2 and "--uscc" in refused.output
    tied = _invoke(
        runner, f'experts relate {cast.expert.username} --uscc {cast.org.uscc} --name 申报单位 --note "曾任顾问"'
    )
    assert tied.exit_code == 0, tied.output
    with db.transaction() as session:
        row = session.scalars(select(ExpertRelationship)).one()
        assert (row.expert_id, row.uscc, row.name, row.note) == (cast.expert.id, cast.org.uscc, "申报单位", "曾任顾问")
    listed = _invoke(runner, "experts list")
    assert f"tie: {cast.org.uscc} 申报单位 — 曾任顾问" in listed.output
    with db.transaction() as session:
        application = session.get(Application, app_id)
        assert application is not None
        pool, excluded = expert_pool.eligible_pool(session, application)
    assert pool == [] and excluded == [{"username": cast.expert.username, "reasons": ["declared_relationship"]}]


def test_panel_verify_recomputes_every_draw_and_fails_on_a_changed_one(runner, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    none_yet = _invoke(runner, f"panel verify {app_id}")
    assert none_yet.exit_code == 0 and "has no panel draw yet" in none_yet.output
    experts = [factories.make_user("expert") for _ in range(4)]
    for user in experts:
        expert_pool.add_expert(cast.admin, user.username, factories.uscc(), "甲", "徐汇区", [])
    draw = panels.draw_panel(cast.agency_coordinator, app_id, 2, "cli")
    leaver = next(u for u in experts if u.username == draw.drawn[1])
    panels.declare(leaver, app_id, True, "亲属关系")

    verified = _invoke(runner, f"panel verify {app_id}")
    assert verified.exit_code == 0, verified.output
    assert verified.output.count("ok  ") == 2 and "all 2 draws reproduce" in verified.output
    assert f"draw 1 (initial): {', '.join(draw.drawn)} reproduced from seed cli" in verified.output

    with db.transaction() as session:
        row = session.scalars(select(PanelDraw).where(PanelDraw.application_id == app_id, PanelDraw.number == 1)).one()
        row.drawn = list(reversed(row.drawn))  # as if someone swapped the leader afterwards
    broken = _invoke(runner, f"panel verify {app_id}")
    assert broken.exit_code == 1
    assert "MISMATCH" in broken.output and "1 of 2 draws do not reproduce" in broken.output

    missing = _invoke(runner, "panel verify 999999")
    assert missing.exit_code == 2 and "APPLICATION_ID" in missing.output


# --- keyunits import ---------------------------------------------------------------------------------------------


def test_keyunits_import_reads_the_csv_once_and_again_changes_nothing(runner, tmp_path):
    path = tmp_path / "2021年度重点用能单位名单.csv"
    path.write_text(f"uscc,name,year\n{SERVICE_USCC},上海节能咨询有限公司,2021\n", encoding="utf-8")
    first = _invoke(runner, f"keyunits import {path} --year 2021")
    assert first.exit_code == 0, first.output
    assert "2021 list: 1 added, 0 renamed, 0 already there; 1 units on the list" in first.output
    again = _invoke(runner, f"keyunits import {path} --year 2021")
    assert again.exit_code == 0 and "2021 list: nothing changed" in again.output
    with db.transaction() as session:
        assert session.scalars(select(KeyEnergyUnit.name).where(KeyEnergyUnit.year == 2021)).all() == [
            "上海节能咨询有限公司"
        ]


def test_keyunits_import_names_each_bad_line_and_imports_none(runner, tmp_path):
    wrong_digit = SERVICE_USCC[:17] + "0"
    path = tmp_path / "list.csv"
    path.write_text(
        f"uscc,name,year\n{SERVICE_USCC},上海节能咨询有限公司,2021\n{wrong_digit},校验位错误,2021\n"
        f"{factories.uscc()},别的年度,2022\n",
        encoding="utf-8",
    )
    result = _invoke(runner, f"keyunits import {path} --year 2021")
    assert result.exit_code == 1
    assert "第 3 行 uscc：统一社会信用代码" in result.output and "第 4 行 year：" in result.output
    assert "未导入任何一行" in result.output
    with db.transaction() as session:
        assert session.scalars(select(KeyEnergyUnit)).all() == []


def test_keyunits_import_refuses_an_impossible_year(runner, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(f"uscc,name,year\n{SERVICE_USCC},上海节能咨询有限公司,1066\n", encoding="utf-8")
    result = _invoke(runner, f"keyunits import {path} --year 1066")
    assert result.exit_code == 2 and "--year" in result.output and "1066" in result.output
