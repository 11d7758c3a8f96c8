"""Set-up: the schema, the shipped programmes and, for a local demo, sample organisations and accounts."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select

from forms.uscc import check_character
from web.core import migrate
from web.core.security import hash_password
from workflow import operations
from workflow.accounts import SYSTEM, Organisation, User
from workflow.db import db
from workflow.workdays import SHANGHAI

# Shared by every demo account. For a local demo only: never seed demo accounts on a reachable server.
DEMO_PASSWORD = "demo-password-2026"


def schema_revisions(url: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(current, head) Alembic revisions; the current ones read through `db`, on the connection it already has."""
    heads = tuple(sorted(ScriptDirectory.from_config(migrate.alembic_config(url)).get_heads()))
    with db.transaction() as session:
        current = tuple(sorted(MigrationContext.configure(session.connection()).get_current_heads()))
    return current, heads


def ensure_schema(url: str) -> str:
    """Migrate to head unless already there; says which. Alembic opens its own connection only when it has work."""
    current, heads = schema_revisions(url)
    if current == heads:
        return f"schema: already at {', '.join(heads)} (nothing to migrate)"
    migrate.upgrade(url)
    return f"schema: migrated from {', '.join(current) or 'an empty database'} to {', '.join(heads)}"


def seed_programmes() -> list[str]:
    with db.transaction() as session:
        published = operations.seed_programmes(session)
    return [f"programme {row.label}: {'published' if created else 'already published'}" for row, created in published]


def demo_uscc(division: str, serial: str) -> str:
    """A well-formed, fictitious code: 91 (a company), the district's division code, a 9-character serial."""
    body = f"91{division}{serial}"
    return body + check_character(body)


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    uscc: str
    name: str
    kind: str
    district: str
    group: str | None = None


DEMO_ORGANISATIONS = (
    DemoOrganisation(
        "manufacturer", demo_uscc("310112", "MA1FP0001"), "上海申闵精密制造有限公司（演示）", "enterprise", "闵行区"
    ),
    DemoOrganisation(
        "group", demo_uscc("310115", "MA1FP0002"), "上海浦江能源集团有限公司（演示）", "group_company", "浦东新区"
    ),
    DemoOrganisation(
        "data_centre",
        demo_uscc("310115", "MA1FP0003"),
        "上海浦江云数据中心有限公司（演示）",
        "data_centre",
        "浦东新区",
        group="group",
    ),
    DemoOrganisation(
        "park", demo_uscc("310112", "MA1FP0004"), "上海紫竹低碳产业园发展有限公司（演示）", "park", "闵行区"
    ),
    DemoOrganisation(
        "esco", demo_uscc("310104", "MA1FP0005"), "上海徐汇节能技术服务有限公司（演示）", "service_company", "徐汇区"
    ),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    display_name: str
    organisation: str | None = None  # a DemoOrganisation key
    district: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount("applicant", "applicant", "申闵精密 能源主管（演示）", organisation="manufacturer"),
    DemoAccount("applicant_dc", "applicant", "浦江云数据中心 运维主管（演示）", organisation="data_centre"),
    DemoAccount("applicant_park", "applicant", "紫竹低碳产业园 管委会（演示）", organisation="park"),
    DemoAccount("applicant_esco", "applicant", "徐汇节能技术服务 项目经理（演示）", organisation="esco"),
    DemoAccount("district_minhang", "district_reviewer", "闵行区经委 初审员（演示）", district="闵行区"),
    DemoAccount("district_pudong", "district_reviewer", "浦东新区商务委 初审员（演示）", district="浦东新区"),
    DemoAccount("group_reviewer", "district_reviewer", "浦江能源集团 主管部门（演示）", organisation="group"),
    DemoAccount("municipal", "municipal_reviewer", "市经济信息化委 审核员（演示）"),
    DemoAccount("coordinator", "agency_coordinator", "第三方机构 项目协调人（演示）"),
    # Who leads is decided by the draw, so the names do not say.
    *(DemoAccount(f"expert{n}", "expert", f"核查专家 {name}（演示）") for n, name in enumerate("甲乙丙", start=1)),
    DemoAccount("finance1", "finance_officer", "资金处 经办人（演示）"),
    DemoAccount("finance2", "finance_officer", "资金处 复核人（演示）"),
    DemoAccount("metering", "monitoring_reviewer", "市计测院 审核员（演示）"),
    DemoAccount("regulator", "market_regulator", "市市场监管局 审批人（演示）"),
    DemoAccount("admin", "admin", "系统管理员（演示）"),
    DemoAccount("secadmin", "security_admin", "安全管理员（演示）"),
    DemoAccount("auditor", "auditor", "审计员（演示）"),
)


@dataclass(frozen=True)
class DemoExpert:
    username: str
    employer_uscc: str
    employer_name: str
    district: str
    specialities: tuple[str, ...]


# The demo's expert pool: employed by neither applicant nor service company, so any may be drawn for any demo case;
# three, so a panel of the default size (PANEL_SIZE 3) can be drawn from the pages.
DEMO_EXPERTS = (
    DemoExpert(
        "expert1", demo_uscc("310101", "MA1FP0006"), "上海市节能监测评估中心（演示）", "黄浦区", ("能源管理", "计量")
    ),
    DemoExpert(
        "expert2",
        demo_uscc("310110", "MA1FP0007"),
        "上海同济节能技术研究所（演示）",
        "杨浦区",
        ("信息系统", "数据中心"),
    ),
    DemoExpert(
        "expert3",
        demo_uscc("310104", "MA1FP0008"),
        "上海电气节能工程咨询（演示）",
        "徐汇区",
        ("电力计量", "工业节能"),
    ),
)


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)

    def lines(self, what: str) -> list[str]:
        out = [f"{what}: {len(self.created)} created, {len(self.existing)} already there"]
        out += [f"  + {name}" for name in self.created]
        return out


def seed_demo_organisations() -> SeedReport:
    """Add the sample organisations that are missing (matched by USCC); never changes existing ones."""
    report = SeedReport()
    with db.transaction() as session:
        by_key: dict[str, Organisation] = {}
        for spec in DEMO_ORGANISATIONS:
            org = session.scalars(select(Organisation).where(Organisation.uscc == spec.uscc)).one_or_none()
            if org is None:
                group = by_key[spec.group] if spec.group else None
                org = Organisation(
                    uscc=spec.uscc,
                    name=spec.name,
                    kind=spec.kind,
                    district=spec.district,
                    group_id=group.id if group else None,
                )
                session.add(org)
                session.flush()
                report.created.append(f"{spec.uscc} {spec.name} ({spec.kind}, {spec.district})")
            else:
                report.existing.append(spec.uscc)
            by_key[spec.key] = org
    return report


def seed_demo_accounts() -> SeedReport:
    """Add the demo accounts that are missing (matched by username); never changes existing ones."""
    report = SeedReport()
    with db.transaction() as session:
        orgs = {
            spec.key: session.scalars(select(Organisation).where(Organisation.uscc == spec.uscc)).one()
            for spec in DEMO_ORGANISATIONS
        }
        existing = set(session.scalars(select(User.username)))
        missing = [a for a in DEMO_ACCOUNTS if a.username not in existing]
        # argon2 is slow on purpose; every demo account shares one password, so hash it once.
        password_hash = hash_password(DEMO_PASSWORD) if missing else ""
        for spec in DEMO_ACCOUNTS:
            if spec.username in existing:
                report.existing.append(spec.username)
                continue
            org = orgs[spec.organisation] if spec.organisation else None
            session.add(
                User(
                    username=spec.username,
                    display_name=spec.display_name,
                    email=f"{spec.username}@example.org",  # a reserved domain (RFC 2606): demo mail reaches no one
                    password_hash=password_hash,
                    role=spec.role,
                    district=spec.district,
                    organisation_id=org.id if org else None,
                )
            )
            scope = spec.district or (org.name if org else "")
            report.created.append(f"{spec.username:<17} {spec.role:<20} {scope}".rstrip())
    return report


def seed_demo_experts() -> SeedReport:
    """Put the demo experts in the pool (profile, employer, district) if they are not there yet."""
    from review import pool as expert_pool
    from review.models import ExpertProfile

    report = SeedReport()
    with db.transaction() as session:
        pooled = set(session.scalars(select(User.username).join(ExpertProfile, ExpertProfile.user_id == User.id)))
    for expert in DEMO_EXPERTS:
        if expert.username in pooled:
            report.existing.append(expert.username)
            continue
        expert_pool.add_expert(
            SYSTEM, expert.username, expert.employer_uscc, expert.employer_name, expert.district, expert.specialities
        )
        report.created.append(f"{expert.username:<17} {expert.employer_name} ({expert.district})")
    return report


# The demo's round of the monitoring fund: from the day `init --demo` runs, this many days (a local demo only).
DEMO_ROUND_DAYS = 60
# The demo units on the key energy-using unit list of the year the sample form names (seed 000 §二(一)).
DEMO_KEY_UNITS = ("manufacturer", "data_centre")
DEMO_KEY_UNIT_YEAR = 2021


# The demo's budgets for this year (yuan): demo figures, set as `manage.py budget set` would.
DEMO_BUDGETS = {"emc-acceptance": "5000000.00", "monitoring-fund": "1000000.00"}


def seed_demo_budgets() -> list[str]:
    """This (Shanghai) year's budget of each programme, unless one is set."""
    from decimal import Decimal

    from review import budgets

    lines = []
    with db.transaction() as session:
        year = budgets.budget_year()
        for code, amount in DEMO_BUDGETS.items():
            if budgets.locked_budget(session, code, year) is not None:
                lines.append(f"demo budget: {code} {year} is set (nothing to do)")
                continue
            budgets.set_budget(session, SYSTEM, code, year, Decimal(amount))
            lines.append(f"demo budget: {code} {year} set to {Decimal(amount):,.2f} yuan")
    return lines


def open_demo_round(code: str = "monitoring-fund") -> str:
    """Open a round of `code` from today unless its newest version's window holds today (the 2022 round closed)."""
    import datetime as dt

    from workflow import workdays
    from workflow.db import utcnow
    from workflow.errors import InvalidInput

    today = workdays.today_in_shanghai(utcnow())
    with db.transaction() as session:
        _row, definition = operations.current_programme(session, code)
        window = definition.window
        if window is None or window.contains(today):
            return f"demo round: {definition.label} is open today (nothing to do)"
        closes = today + dt.timedelta(days=DEMO_ROUND_DAYS)
        try:
            row = operations.open_round(session, code, today, closes, SYSTEM)
        except InvalidInput as exc:
            return f"demo round: none opened for {code}: {exc.detail}"
        return (
            f"demo round: published {row.label}, applications open {today} to {closes} "
            f"(the round of {definition.label} is not open today; `workflow round` opens real ones)"
        )


def seed_demo_key_units() -> SeedReport:
    """Put the demo units on the key energy-using unit list the sample form names, if they are not there yet."""
    from review import keyunits

    report = SeedReport()
    with db.transaction() as session:
        units = []
        for spec in DEMO_ORGANISATIONS:
            if spec.key not in DEMO_KEY_UNITS:
                continue
            if keyunits.listed(session, spec.uscc, DEMO_KEY_UNIT_YEAR):
                report.existing.append(spec.uscc)
            else:
                units.append(keyunits.ListedUnit(0, spec.uscc, spec.name, DEMO_KEY_UNIT_YEAR))
                report.created.append(f"{spec.uscc} {spec.name} ({DEMO_KEY_UNIT_YEAR})")
        if units:
            keyunits.import_units(session, SYSTEM, units, DEMO_KEY_UNIT_YEAR, "init --demo")
    return report


DEMO_METERED = ("manufacturer", "data_centre", "park")  # units whose meters the demo's experts see on site
DEMO_METER_DAYS = 370  # the snapshot reads the trailing 365 days: a year and a few days, so none is a gap


def seed_demo_meters() -> SeedReport:
    """Give the demo units simulated meters and readings up to yesterday (Shanghai), if they have none yet."""
    from meters import simulate
    from meters.models import Meter

    report = SeedReport()
    yesterday = dt.datetime.now(SHANGHAI).date() - dt.timedelta(days=1)
    for n, spec in enumerate(s for s in DEMO_ORGANISATIONS if s.key in DEMO_METERED):
        with db.transaction() as session:
            org = session.scalars(select(Organisation).where(Organisation.uscc == spec.uscc)).one()
            org_id = org.id
            has = session.scalars(select(Meter.id).where(Meter.organisation_id == org_id).limit(1)).first()
        if has is not None:
            report.existing.append(spec.uscc)
            continue
        with tempfile.TemporaryDirectory() as folder:
            start = yesterday - dt.timedelta(days=DEMO_METER_DAYS - 1)
            made = simulate.simulate(Path(folder), start, yesterday, meters=12, interval=60, seed=n + 1)
            registered, stored, _refused = simulate.load(SYSTEM, org_id, made, "init --demo")
        report.created.append(f"{spec.uscc}: {registered} meters, {stored} readings ({start} to {yesterday})")
    return report


def initialise(url: str, demo: bool) -> list[str]:
    """Migrate, publish the shipped programmes and, with `demo`, add the sample organisations and accounts, a round
    of the monitoring fund open today, and the demo units on its key energy-using unit list."""
    lines = [ensure_schema(url), *seed_programmes()]
    if demo:
        lines += seed_demo_organisations().lines("demo organisations")
        lines += seed_demo_accounts().lines("demo accounts")
        lines += seed_demo_experts().lines("demo expert pool")
        lines.append(open_demo_round())
        lines += seed_demo_budgets()
        lines += seed_demo_key_units().lines(f"demo key energy-using units {DEMO_KEY_UNIT_YEAR}")
        lines += seed_demo_meters().lines("demo meter data (simulated)")
    return lines
