"""manage.py commands, invoked through Flask's CLI runner inside the per-test transaction."""

from __future__ import annotations

import re
import shlex
import tomllib
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from forms.uscc import is_valid
from meters import snapshots
from tests import factories
from web import demo
from web.core import seed
from web.core.security import authenticate, user_for_token
from workflow import definitions
from workflow.accounts import ROLES, Organisation, User
from workflow.db import db
from workflow.models import AuditEvent, ProgrammeVersion


def _invoke(runner, command: str, input: str | None = None):  # type: ignore[no-untyped-def]
    """Run `manage.py <command>`; the command line is split as a shell would."""
    return runner.invoke(args=shlex.split(command), input=input)


def _snapshot() -> tuple[list[tuple], list[tuple]]:
    with db.transaction() as session:
        orgs = session.execute(select(Organisation.uscc, Organisation.name, Organisation.group_id)).all()
        users = session.execute(select(User.username, User.role, User.password_hash, User.organisation_id)).all()
        return sorted(map(tuple, orgs)), sorted(map(tuple, users))


def _user(username: str) -> User | None:
    with db.transaction() as session:
        return session.scalars(select(User).where(User.username == username)).one_or_none()


# --- init and demo ------------------------------------------------------------------------------------------------


def test_init_demo_twice_creates_once_and_then_changes_nothing(runner):
    first = _invoke(runner, "init --demo")
    assert first.exit_code == 0, first.output
    assert "schema: already at" in first.output  # the session fixture migrated; init does not migrate again
    assert f"demo accounts: {len(seed.DEMO_ACCOUNTS)} created" in first.output
    assert seed.DEMO_PASSWORD in first.output and "local demo only" in first.output
    after_first = _snapshot()

    second = _invoke(runner, "init --demo")
    assert second.exit_code == 0, second.output
    assert "demo organisations: 0 created" in second.output
    assert "demo accounts: 0 created" in second.output
    assert _snapshot() == after_first


def test_init_demo_gives_every_role_an_account_that_can_log_in():
    seed.initialise(db.url, demo=True)  # type: ignore[arg-type]
    with db.transaction() as session:
        roles = set(
            session.scalars(select(User.role).where(User.username.in_([a.username for a in seed.DEMO_ACCOUNTS])))
        )
        assert roles == set(ROLES)
        assert authenticate(session, "finance1", seed.DEMO_PASSWORD) is not None
        codes = session.scalars(select(Organisation.uscc).where(Organisation.name.like("%（演示）"))).all()
    assert len(codes) == len(seed.DEMO_ORGANISATIONS)
    assert all(is_valid(code) for code in codes)


def test_demo_drives_every_kind_to_its_end_and_exits_zero(runner):
    result = _invoke(runner, "demo")
    assert result.exit_code == 0, result.output
    assert "demo passed: 4 applications" in result.output
    assert "finance1" in result.output and "已拨付 (Paid)" in result.output
    assert re.search(r"audit chain intact: \d+ events verified", result.output)
    told = re.search(r"notifications: (\d+) in the inboxes of (\d+) people \(/inbox\); (\d+) mails sent", result.output)
    assert told is not None, result.output
    assert int(told[1]) > 0 and int(told[3]) > 0  # mail went (to the log: SMTP_URL is unset in the tests)


def test_demo_result_has_the_expected_end_states_and_refusals(app):
    seed.initialise(db.url, demo=True)  # type: ignore[arg-type]
    with app.app_context():  # the demo uploads to the app's blob store
        result = demo.run_demo()
    assert result.ok, result.problems
    assert result.end_states == {
        "emc-acceptance/enterprise": "archived",
        "emc-acceptance/data_centre": "archived",
        "emc-acceptance/park": "archived",
        "monitoring-fund/enterprise": "archived",
    }
    park = next(run for run in result.runs if run.scenario.kind == "park")
    assert "verification_failed" in [e.to_state for e in park.timeline]
    # The panel is drawn, declares, and every member signs a sheet; one member's dissent is kept.
    outcomes = [e.outcome for e in park.timeline]
    assert outcomes.count("declared") == outcomes.count("sheet_submitted") == 2
    assert park.dissent == ["3.2"]
    refused = {(r.actor, r.trigger): r.got for r in result.refusals}
    assert refused[("finance1", "approve_award")] == "GuardFailed"
    assert refused[("applicant", "pass_prereview")] == "Forbidden"
    assert sorted(r.got for r in result.refusals if r.trigger == "conclude_fail") == ["Forbidden", "GuardFailed"]
    uploads = [e for e in result.runs[0].timeline if e.outcome == "attached"]
    assert [e.detail.split(":")[0] for e in uploads][:2] == ["business_licence", "equipment_list"]
    # Issue 14: what the demo told people is in their inboxes, and went by mail (to the log here).
    assert result.mail is not None and result.mail.sent > 0 and result.mail.failed == 0
    browser = app.test_client()
    logged_in = browser.post("/login", data={"username": "district_minhang", "password": seed.DEMO_PASSWORD})
    assert logged_in.status_code == 303
    inbox = browser.get("/inbox")
    assert inbox.status_code == 200 and 'data-kind="your_turn"' in inbox.text and "区主管部门初审中" in inbox.text


def test_the_demo_experts_see_figures_computed_from_the_simulated_meters(app):
    """Issue 12: `init --demo` gives the demo units six months and more of simulated readings, so the snapshot taken
    when the enterprise enters site verification has real figures, its 80-hour collection fault among them."""
    seed.initialise(db.url, demo=True)  # type: ignore[arg-type]
    with app.app_context():
        result = demo.run_demo()
    enterprise = next(
        r for r in result.runs if r.scenario.programme == "emc-acceptance" and r.scenario.kind == "enterprise"
    )
    with db.transaction() as session:
        frozen = snapshots.latest(session, enterprise.application_id)
        assert frozen is not None
        figures = {r["check"]: r for r in frozen.results}
        assert frozen.figures["completeness"] and frozen.figures["daily"]
    assert (figures["ACCESS_RATIO_T1"]["value"], figures["ACCESS_RATIO_T1"]["passed"]) == ("1.0000", True)
    assert (figures["LONG_GAP"]["value"], figures["LONG_GAP"]["passed"]) == ("80.0", False)
    assert figures["STABLE_RUN_6M"]["passed"] is True  # the gap lies before the last six months
    assert figures["COUNTER_INTEGRITY"]["passed"] is True  # the replaced meter and the rollover are explained


def test_the_demo_proposals_say_how_their_figures_were_reached(app):
    """Each proposal's words and amount agree: the rule's categories (万元 = 10,000 yuan) × its rate, rounded down to
    the yuan; the budgets the demo set balance with its awards and payments (issue 13)."""
    seed.initialise(db.url, demo=True)  # type: ignore[arg-type]
    with app.app_context():
        result = demo.run_demo()
    assert result.ok, result.problems
    with db.transaction() as session:
        proposals = session.scalars(
            select(AuditEvent).where(AuditEvent.trigger == "propose_award", AuditEvent.outcome == "transition")
        ).all()
    assert len(proposals) == 3
    for event in proposals:
        words, amount = event.payload["comment"], Decimal(event.payload["amount"])
        found = re.search(r"本地设置）：\(([^)]*)\) × 10,000 × ([\d.]+) = [\d,.]+ → ([\d,]+) 元", words)
        assert found is not None, words
        wan = sum(Decimal(term.removesuffix(" 万元")) for term in found[1].split(" + "))
        rate, said = Decimal(found[2]), Decimal(found[3].replace(",", ""))
        assert amount == said == (wan * 10000 * rate).to_integral_value(rounding="ROUND_DOWN")
    # 40 + 90 + 45.50 万元 at 20 % (emc, twice) and 36.80 万元 at 30 % (the monitoring fund): local settings.
    assert sorted(p.payload["amount"] for p in proposals) == ["110400.00", "351000.00", "351000.00"]
    assert result.ledger and all(line.balances for line in result.ledger)
    assert {(line.programme, str(line.paid)) for line in result.ledger} == {
        ("emc-acceptance", "702000.00"),
        ("monitoring-fund", "110400.00"),
    }


def test_demo_exits_non_zero_naming_what_went_wrong(runner):
    seed.initialise(db.url, demo=True)  # type: ignore[arg-type]
    with db.transaction() as session:
        session.scalars(select(User).where(User.username == "finance2")).one().active = False
    result = _invoke(runner, "demo")
    assert result.exit_code == 1
    assert "demo failed" in result.output
    assert "finance2" in result.output and "deactivated" in result.output


# --- orgs and users -----------------------------------------------------------------------------------------------


def test_orgs_create_registers_a_unit_of_a_group_company(runner):
    group_code, unit_code = factories.uscc(), factories.uscc()
    group = _invoke(runner, f"orgs create {group_code} --name 上海测试集团 --kind group_company --district 浦东新区")
    assert group.exit_code == 0, group.output
    unit = _invoke(
        runner,
        f"orgs create {unit_code} --name 上海测试数据中心 --kind data_centre --district 浦东新区 --group {group_code}",
    )
    assert unit.exit_code == 0, unit.output
    with db.transaction() as session:
        org = session.scalars(select(Organisation).where(Organisation.uscc == unit_code)).one()
        assert org.group is not None
        assert (org.kind, org.district, org.group.uscc) == ("data_centre", "浦东新区", group_code)


def test_orgs_create_refuses_a_wrong_check_digit_naming_field_and_value(runner):
    good = factories.uscc()
    bad = good[:17] + next(c for c in "0123456789" if c != good[17])
    result = _invoke(runner, f"orgs create {bad} --name 某公司 --kind enterprise --district 闵行区")
    assert result.exit_code == 2
    assert "USCC" in result.output and bad in result.output and "校验码" in result.output
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Organisation).where(Organisation.uscc == bad)) == 0


@pytest.mark.parametrize(
    ("option", "value"), [("--district", "北京市"), ("--kind", "bank")], ids=["unknown district", "unknown kind"]
)
def test_orgs_create_refuses_values_outside_the_lists(runner, option, value):
    args = {"--name": "某公司", "--kind": "enterprise", "--district": "闵行区", option: value}
    result = _invoke(runner, f"orgs create {factories.uscc()} " + " ".join(f"{k} {v}" for k, v in args.items()))
    assert result.exit_code == 2
    assert option in result.output and value in result.output


def test_users_create_reads_the_password_from_stdin(runner):
    org = factories.make_org("enterprise", "闵行区")
    password = "a long enough secret 42"
    result = _invoke(
        runner,
        f"users create zhang.wei --role applicant --org {org.uscc} --email zhang.wei@example.com --password-stdin",
        input=password + "\n",
    )
    assert result.exit_code == 0, result.output
    assert password not in result.output
    with db.transaction() as session:
        user = authenticate(session, "zhang.wei", password)
        assert user is not None
        assert (user.role, user.organisation_id, user.email) == ("applicant", org.id, "zhang.wei@example.com")


def test_users_create_refuses_a_short_password(runner):
    org = factories.make_org()
    result = _invoke(runner, f"users create li.na --role applicant --org {org.uscc} --password-stdin", input="short\n")
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    assert _user("li.na") is None


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ("--role applicant", "--org"),
        ("--role district_reviewer", "--district"),
        ("--role municipal_reviewer --district 闵行区", "--district"),
    ],
    ids=["applicant without org", "district reviewer without scope", "district on another role"],
)
def test_users_create_refuses_a_role_without_its_scope(runner, args, named):
    result = _invoke(runner, f"users create wang.fang {args} --password-stdin", input="long enough pw 123\n")
    assert result.exit_code == 2
    assert named in result.output
    assert _user("wang.fang") is None


def test_users_create_accepts_a_group_company_reviewer(runner):
    group = factories.make_org("group_company", "浦东新区")
    result = _invoke(
        runner,
        f"users create group.hq --role district_reviewer --org {group.uscc} --password-stdin",
        input="long enough pw 123\n",
    )
    assert result.exit_code == 0, result.output
    user = _user("group.hq")
    assert user is not None and (user.district, user.organisation_id) == (None, group.id)


def test_users_token_prints_a_token_the_api_accepts(runner):
    user = factories.make_user("auditor", username="auditor.zhou")
    result = _invoke(runner, "users token auditor.zhou --hours 2")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    with db.transaction() as session:
        found = user_for_token(session, token)
        assert found is not None and found.id == user.id


def test_users_list_shows_roles_and_scopes(runner):
    factories.make_user("district_reviewer", district="徐汇区", username="xuhui.reviewer")
    result = _invoke(runner, "users list")
    assert result.exit_code == 0
    assert re.search(r"xuhui\.reviewer\s+district_reviewer\s+active\s+徐汇区", result.output)


# --- audit --------------------------------------------------------------------------------------------------------


def _events() -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_audit_verify_exits_zero_on_an_intact_chain(runner, cast):
    factories.drive_to(cast, factories.new_application(cast), "completeness_check")
    result = _invoke(runner, "audit verify")
    assert result.exit_code == 0, result.output
    assert f"audit chain intact: {_events()} events verified" in result.output


def test_audit_verify_exits_one_naming_an_edited_event(runner, cast):
    factories.drive_to(cast, factories.new_application(cast), "completeness_check")
    with db.transaction() as session:
        seq = session.scalar(select(func.max(AuditEvent.seq)).where(AuditEvent.trigger == "submit"))
        # The schema refuses edits to audit rows; lift that inside this (rolled back) test transaction.
        if db.dialect == "postgresql":
            session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        else:
            session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = :seq"), {"seq": seq})
    result = _invoke(runner, "audit verify")
    assert result.exit_code == 1
    assert f"broken at event {seq}" in result.output


# --- workflow -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("definition", definitions.shipped(), ids=lambda d: d.code)
def test_workflow_diagram_mermaid_names_every_state_and_trigger(runner, definition):
    result = _invoke(runner, f"workflow diagram {definition.code} --format mermaid")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("---") and "stateDiagram-v2" in result.stdout
    for state in definition.states:
        assert f" as {state}" in result.stdout
    for trigger in definition.triggers:
        assert f": {trigger} (" in result.stdout


@pytest.mark.parametrize("definition", definitions.shipped(), ids=lambda d: d.code)
def test_workflow_diagram_svg_is_xml_with_every_state(runner, definition, tmp_path):
    out = tmp_path / "graph.svg"
    result = _invoke(runner, f"workflow diagram {definition.code} --format svg --output {out}")
    assert result.exit_code == 0, result.output
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    texts = {"".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert set(definition.states) <= texts


def test_workflow_diagram_refuses_an_unknown_programme(runner):
    result = _invoke(runner, "workflow diagram no-such-programme")
    assert result.exit_code == 2
    assert "no-such-programme" in result.output and "emc-acceptance" in result.output


NEWEST = max(d.version for d in definitions.shipped() if d.code == "emc-acceptance")


def _definition_file(tmp_path: Path, version: int, change: str | None = None) -> Path:
    """The newest shipped emc-acceptance file, renumbered `version`, `submit` relabelled by `change`."""
    source = (definitions.PROGRAMMES_DIR / f"emc-acceptance.v{NEWEST}.toml").read_text(encoding="utf-8")
    source = source.replace(f"\nversion = {NEWEST}\n", f"\nversion = {version}\n", 1)
    if change:  # a new label for `submit`
        source = source.replace('label = { zh = "提交申报", en = "Submit" }', change, 1)
    path = tmp_path / f"emc-acceptance.v{version}.toml"
    path.write_text(source, encoding="utf-8")
    assert tomllib.loads(source)["version"] == version
    return path


def test_workflow_publish_refuses_changed_content_under_a_published_version(runner, tmp_path):
    changed = _definition_file(tmp_path, NEWEST, change='label = { zh = "提交", en = "Submit it" }')
    result = _invoke(runner, f"workflow publish {changed}")
    assert result.exit_code == 1
    assert "already published with different content" in result.output
    assert f"version {NEWEST + 1}" in result.output  # says what to do instead


def test_workflow_publish_accepts_the_same_content_and_a_new_version(runner, tmp_path):
    same = _invoke(runner, f"workflow publish {_definition_file(tmp_path, NEWEST)}")
    assert same.exit_code == 0 and "nothing to do" in same.output
    following = _definition_file(tmp_path, NEWEST + 1, 'label = { zh = "提交" }')
    new = _invoke(runner, f"workflow publish {following}")
    assert new.exit_code == 0, new.output
    listed = _invoke(runner, "workflow list")
    assert f"emc-acceptance@{NEWEST}" in listed.output and f"emc-acceptance@{NEWEST + 1}" in listed.output
    with db.transaction() as session:
        assert (
            session.scalar(select(func.max(ProgrammeVersion.version)).where(ProgrammeVersion.code == "emc-acceptance"))
            == NEWEST + 1
        )


def test_workflow_publish_lists_every_problem_of_a_broken_definition(runner, tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(
        'code = "broken"\nversion = 1\ninitial = "start"\n'
        '[states]\nstart = { label = { zh = "开始" } }\n'
        '[[transitions]]\ntrigger = "go"\nsource = "start"\ndest = "nowhere"\nroles = ["wizard"]\n',
        encoding="utf-8",
    )
    result = _invoke(runner, f"workflow publish {path}")
    assert result.exit_code == 1
    assert "unknown state 'nowhere'" in result.output and "unknown role 'wizard'" in result.output


def test_workflow_round_publishes_the_next_version_of_the_monitoring_fund(runner):
    with db.transaction() as session:
        newest = session.scalar(
            select(func.max(ProgrammeVersion.version)).where(ProgrammeVersion.code == "monitoring-fund")
        )
    opened = _invoke(runner, "workflow round monitoring-fund --opens 2031-08-01 --closes 2031-09-30")
    assert opened.exit_code == 0, opened.output
    assert f"published monitoring-fund@{newest + 1}" in opened.output
    assert "applications open 2031-08-01 to 2031-09-30 (Shanghai dates, both included)" in opened.output
    assert f"monitoring-fund@{newest + 1}" in _invoke(runner, "workflow list").output

    overlapping = _invoke(runner, "workflow round monitoring-fund --opens 2031-09-30 --closes 2031-12-31")
    assert overlapping.exit_code == 1
    assert "--opens: 新一轮 2031-09-30 至 2031-12-31 与" in overlapping.output and "重叠" in overlapping.output
    backwards = _invoke(runner, "workflow round monitoring-fund --opens 2032-09-30 --closes 2032-08-01")
    assert backwards.exit_code == 1 and "--closes: 截止日 2032-08-01 早于开始日 2032-09-30" in backwards.output
    assert _invoke(runner, "workflow round monitoring-fund --opens 2032-13-01 --closes 2032-08-01").exit_code == 2


def test_workflow_round_help_says_a_later_shipped_file_takes_the_next_free_number(runner):
    shown = " ".join(_invoke(runner, "workflow round --help").output.split())
    assert "must then take the next free version number" in shown


def test_init_demo_opens_a_round_of_the_monitoring_fund_once(runner):
    first = _invoke(runner, "init --demo")
    assert re.search(r"demo round: published monitoring-fund@\d+, applications open", first.output), first.output
    assert "demo key energy-using units 2021: 2 created" in first.output
    second = _invoke(runner, "init --demo")
    assert "is open today (nothing to do)" in second.output
    assert "demo key energy-using units 2021: 0 created" in second.output


# --- serve and worker ---------------------------------------------------------------------------------------------


def test_serve_runs_the_threaded_server_on_localhost_by_default(runner, monkeypatch):
    calls = []
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda *a, **kw: calls.append((a[:2], kw)))
    result = _invoke(runner, "serve")
    assert result.exit_code == 0, result.output
    assert calls == [(("127.0.0.1", 5000), {"threaded": True, "use_reloader": False})]
    assert "gunicorn" in _invoke(runner, "serve --help").output


def test_worker_starts_the_apps_celery_worker_with_beat(runner, app, monkeypatch):
    seen = []
    monkeypatch.setattr(app.extensions["celery"], "worker_main", lambda argv=None: seen.append(argv))
    result = _invoke(runner, "worker --beat --loglevel debug --concurrency 2")
    assert result.exit_code == 0, result.output
    schedule = f"--schedule={Path(app.instance_path) / 'celerybeat-schedule'}"
    assert seen == [["worker", "--loglevel=debug", "--concurrency", "2", "--beat", schedule]]


def test_the_demo_leaves_one_application_waiting_at_each_desk(app):
    """After `init --demo` and `demo`, every desk account finds work on its first login (issue 11)."""
    seed.initialise(db.url, demo=True)  # type: ignore[arg-type]
    with app.app_context():
        result = demo.run_demo()
    assert result.ok, result.problems
    waiting = {run.state: run.application_id for run in result.waiting}
    desks = {
        "district_minhang": "district_review",
        "municipal": "completeness_check",
        "coordinator": "site_verification",
        "finance1": "funding_review",
        "metering": "technical_review",
        "regulator": "regulator_approval",
    }
    assert set(waiting) == set(desks.values())
    for username, state in desks.items():
        client = app.test_client()
        login = client.post("/login", data={"username": username, "password": seed.DEMO_PASSWORD})
        assert login.headers["Location"] == "/desk"
        desk = client.get("/desk?per_page=100")
        assert desk.status_code == 200
        assert f'href="/applications/{waiting[state]}"' in desk.text, username
    # A panel of the default size (PANEL_SIZE 3) can be drawn: the pool holds three experts.
    assert len(seed.DEMO_EXPERTS) >= int(app.config["PANEL_SIZE"])
