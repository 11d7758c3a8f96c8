"""CLI commands registered on the app (manage.py is the FlaskGroup): `python manage.py --help`."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from forms import uscc as uscc_rules
from storage import authorisers, sealed
from web import demo as demo_module
from web import seed
from web.demo import report as demo_report
from web.security import hash_password, issue_token, password_problem
from workflow import audit, definitions, diagram, operations, registry
from workflow.accounts import DISTRICTS, ORGANISATION_KINDS, ROLES, SYSTEM, Organisation, User
from workflow.db import as_utc, db
from workflow.definitions import Definition, DefinitionError
from workflow.errors import InvalidInput
from workflow.models import ProgrammeVersion
from workflow.visibility import programme_definitions, visible_applications

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")


def register(app: Flask) -> None:
    commands = (init_command, serve_command, worker_command, demo_command, audit_group, workflow_group)
    from web.cli_accounts import COMMANDS as account_commands
    from web.cli_review import COMMANDS as review_commands

    for command in (*commands, orgs_group, users_group, keys_group, *review_commands, *account_commands):
        app.cli.add_command(command)


# --- init, serve, worker, demo ------------------------------------------------------------------------------------


@click.command("init")
@click.option("--demo", is_flag=True, help="Also add sample organisations and one account per role (local demo only).")
@with_appcontext
def init_command(demo: bool) -> None:
    """Migrate the database to the latest schema and publish the shipped programmes. Safe to run again."""
    for line in seed.initialise(current_app.config["DATABASE_URL"], demo):
        click.echo(line)
    if demo:
        click.echo("")
        click.echo(f"demo password for every demo account: {seed.DEMO_PASSWORD}")
        click.echo("  (for a local demo only — never run `init --demo` on a server others can reach)")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the app with the threaded development server (the embedded default).

    In production run it under gunicorn instead, e.g. `gunicorn -w 4 -b 0.0.0.0:8000 'web.app:create_app()'`.
    """
    from werkzeug.serving import run_simple

    click.echo(f"serving on http://{host}:{port}/ (development server; use gunicorn in production)")
    # Flask's app.run() refuses to start under a FlaskGroup; werkzeug's server is what it would have used.
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)  # type: ignore[attr-defined]


@click.command("worker", context_settings={"ignore_unknown_options": True})
@click.option("--beat", is_flag=True, help="Also run the periodic jobs (outbox relay, deadlines) in this worker.")
@click.option("--loglevel", default="INFO", show_default=True, help="Celery log level.")
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def worker_command(beat: bool, loglevel: str, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker of this app; extra arguments go to `celery worker` (e.g. --concurrency 4)."""
    celery = current_app.extensions["celery"]
    if current_app.config["CELERY"].get("task_always_eager"):
        click.echo(
            "CELERY_BROKER_URL is not set: tasks already run in-process (embedded default); "
            "this worker only runs the periodic jobs if --beat is given.",
            err=True,
        )
        sys.stderr.flush()  # before the worker forks, or each child writes the buffered text again
    argv = ["worker", f"--loglevel={loglevel}", *celery_args]
    if beat:
        argv.append("--beat")
        if not any(a in ("-s", "--schedule") or a.startswith("--schedule=") for a in celery_args):
            # Beat's record of last runs belongs with the instance's data, not in the working directory.
            argv.append(f"--schedule={Path(current_app.instance_path) / 'celerybeat-schedule'}")
    celery.worker_main(argv=argv)


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Drive one application of each kind through fire(), print each timeline, and check everything."""
    for line in seed.initialise(current_app.config["DATABASE_URL"], demo=True):
        if not line.startswith("  +"):
            click.echo(f"set-up: {line}")
    click.echo("")
    result = demo_module.run_demo()
    for line in demo_report.render(result):
        click.echo(line)
    if not result.ok:
        raise click.ClickException("demo failed:\n  " + "\n  ".join(result.problems))
    click.echo("")
    click.echo(f"demo passed: {len(result.runs)} applications, {len(result.refusals)} wrong moves refused")


# --- audit --------------------------------------------------------------------------------------------------------


@click.group("audit")
def audit_group() -> None:
    """The audit chain."""


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Walk the whole audit chain; exit 1 naming the first event that was edited, removed or re-linked."""
    with db.transaction() as session:
        verification = audit.verify(session)
    if not verification.ok:
        raise click.ClickException(str(verification))
    click.echo(str(verification))


@audit_group.command("head")
@with_appcontext
def audit_head() -> None:
    """Print the chain's tip (seq and hash), to be recorded outside the system: only against such a record can a
    truncated tail be seen."""
    from workflow.models import AuditHead

    with db.transaction() as session:
        head = session.get(AuditHead, audit.HEAD_ID)
        seq, digest = (head.last_seq, head.last_hash) if head else (0, audit.GENESIS)
    click.echo(f"{seq} {digest}")


# --- keys ---------------------------------------------------------------------------------------------------------


@click.group("keys")
def keys_group() -> None:
    """Field encryption keys (FIELD_ENCRYPTION_KEYS): the first seals, all open."""


@keys_group.command("generate")
def keys_generate() -> None:
    """Print a new key, to put first in FIELD_ENCRYPTION_KEYS before `keys rotate`."""
    click.echo(sealed.generate_key())


@keys_group.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Seal every stored value again with the first key; afterwards the other keys can be dropped."""
    sealer = sealed.sealer(current_app.config["FIELD_ENCRYPTION_KEYS"])
    try:
        with db.transaction() as session:
            count = authorisers.reseal_all(session, sealer)
    except sealed.SealError as exc:
        raise click.ClickException(f"{exc}; nothing was changed (is the key that sealed it still listed?)") from None
    click.echo(f"re-sealed {count} credit authoriser ID numbers with key 1 of {sealer.key_count}")
    if sealer.key_count > 1:
        click.echo("every value now opens with the first key: the others can be removed from FIELD_ENCRYPTION_KEYS")


# --- workflow -----------------------------------------------------------------------------------------------------


@click.group("workflow")
def workflow_group() -> None:
    """Programme definitions: draw, publish, open a round, list."""


def _stored_definition(code: str, version: int | None) -> Definition | None:
    with db.transaction() as session:
        query = select(ProgrammeVersion.id).where(ProgrammeVersion.code == code)
        if version is not None:
            query = query.where(ProgrammeVersion.version == version)
        pv_id = session.scalar(query.order_by(ProgrammeVersion.version.desc()).limit(1))
        return None if pv_id is None else programme_definitions(session)[pv_id]


def find_definition(code: str, version: int | None) -> Definition:
    """The published definition (latest unless `version`), else the shipped file of that programme."""
    try:
        found = _stored_definition(code, version)
    except (OperationalError, ProgrammingError):  # no schema yet (before `init`): draw from the files
        found = None
    if found is not None:
        return found
    shipped = [d for d in definitions.shipped() if d.code == code and version in (None, d.version)]
    if not shipped:
        known = sorted({d.code for d in definitions.shipped()})
        which = f"'{code}' version {version}" if version is not None else f"'{code}'"
        raise click.BadParameter(
            f"no programme {which} is published or shipped; known programmes: {', '.join(known)}",
            param_hint="PROGRAMME",
        )
    click.echo(f"(not published in the database: drawing the shipped {shipped[-1].label})", err=True)
    return shipped[-1]


@workflow_group.command("diagram")
@click.argument("programme")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "svg"]), default="mermaid", show_default=True)
@click.option("--version", type=int, help="Programme version (default: the latest published).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Label language.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Write to a file.")
@with_appcontext
def workflow_diagram(programme: str, fmt: str, version: int | None, lang: str, output: Path | None) -> None:
    """Draw PROGRAMME's state graph from its definition (Mermaid stateDiagram-v2 or a standalone SVG)."""
    definition = find_definition(programme, version)
    text = diagram.mermaid(definition, lang) if fmt == "mermaid" else diagram.svg(definition, lang)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {definition.label} as {fmt} to {output}", err=True)


@workflow_group.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def workflow_publish(file: Path) -> None:
    """Publish a definition file as a new programme version; a published version never changes."""
    try:
        definition = definitions.load_file(file)
    except DefinitionError as exc:
        raise click.ClickException(_problems(f"cannot publish {file}", exc.problems)) from None
    except (ValueError, KeyError, TypeError) as exc:  # TOML syntax, or values of the wrong shape
        raise click.ClickException(f"cannot publish {file}: {exc}") from None
    missing = registry.missing(definition)
    if missing:
        names = [f"{name} is not registered (is its plugin loaded?)" for name in missing]
        raise click.ClickException(_problems(f"cannot publish {definition.label}", names))
    try:
        with db.transaction() as session:
            row, created = operations.publish(session, definition)
            label, row_id = row.label, row.id
    except DefinitionError as exc:
        raise click.ClickException(_problems(f"cannot publish {definition.label}", exc.problems)) from None
    if created:
        click.echo(f"published {label} (id {row_id}); new applications use it, those in flight keep theirs")
    else:
        click.echo(f"{label} is already published with exactly this content: nothing to do")


def _problems(head: str, problems: list[str]) -> str:
    return head + ":\n" + "\n".join(f"  - {p}" for p in problems)


@workflow_group.command("round")
@click.argument("programme")
@click.option(
    "--opens", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day (Shanghai date), e.g. 2027-08-01."
)
@click.option("--closes", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day, included, e.g. 2027-09-30.")
@with_appcontext
def workflow_round(programme: str, opens: dt.datetime, closes: dt.datetime) -> None:
    """Open a new application round of PROGRAMME: publish version N+1, the newest version with this window.

    Both days are included, in Shanghai time; the round may not overlap the newest version's window. New
    applications use the round; those in flight keep theirs. The round is a local setting (recorded in the
    version's local_settings). A definition file shipped later for the programme (e.g. monitoring-fund.v3.toml)
    must then take the next free version number, since a published version never changes.
    """
    try:
        with db.transaction() as session:
            row = operations.open_round(session, programme, opens.date(), closes.date(), SYSTEM)
            label, row_id = row.label, row.id
    except InvalidInput as exc:
        hints = {"opens": "--opens", "closes": "--closes", "programme": "PROGRAMME"}
        raise click.ClickException(
            _problems("no round opened", [f"{hints.get(p.field, p.field)}: {p.message}" for p in exc.problems])
        ) from None
    click.echo(
        f"published {label} (id {row_id}): applications open {opens:%Y-%m-%d} to {closes:%Y-%m-%d} "
        "(Shanghai dates, both included); those in flight keep their version"
    )


@workflow_group.command("list")
@with_appcontext
def workflow_list() -> None:
    """Programme versions in the database, with how many applications each carries."""
    with db.transaction() as session:
        every = visible_applications(session, SYSTEM).subquery()
        counts = dict(
            session.execute(
                select(every.c.programme_version_id, func.count()).group_by(every.c.programme_version_id)
            ).all()
        )
        rows = session.scalars(select(ProgrammeVersion).order_by(ProgrammeVersion.code, ProgrammeVersion.version))
        lines = [
            f"{pv.label:<22} published {as_utc(pv.published_at):%Y-%m-%d %H:%M}Z  digest {pv.digest[:12]}  "
            f"applications: {counts.get(pv.id, 0):<6} {pv.title}"
            for pv in rows
        ]
    if not lines:
        click.echo("no programme is published yet: run `manage.py init`")
    for line in lines:
        click.echo(line)


@workflow_group.command("docs")
@click.option("--check", is_flag=True, help="Exit 1 if docs/architecture.md is out of date instead of writing it.")
def workflow_docs(check: bool) -> None:
    """Redraw the programme diagrams in docs/architecture.md from the shipped definitions."""
    from web.config import PROJECT_ROOT

    path = PROJECT_ROOT / "docs" / "architecture.md"
    text = path.read_text(encoding="utf-8")
    updated = diagram.replace_docs_section(text, definitions.shipped())
    if updated == text:
        click.echo(f"{path.name}: diagrams are up to date")
    elif check:
        raise click.ClickException(f"{path.name} is out of date: run `manage.py workflow docs`")
    else:
        path.write_text(updated, encoding="utf-8")
        click.echo(f"{path.name}: diagrams redrawn")


# --- orgs and users -----------------------------------------------------------------------------------------------


def _organisation(session: Session, code: str) -> Organisation | None:
    return session.scalars(select(Organisation).where(Organisation.uscc == code)).one_or_none()


def _checked_uscc(value: str, hint: str) -> str:
    code = value.strip().upper()
    problem = uscc_rules.problem(code)
    if problem:
        raise click.BadParameter(f"'{value}' is not a valid unified social credit code: {problem}", param_hint=hint)
    return code


@click.group("orgs")
def orgs_group() -> None:
    """Organisations (units that apply, group companies, agencies)."""


@orgs_group.command("create")
@click.argument("uscc")
@click.option("--name", required=True, help="Registered name (单位名称).")
@click.option("--kind", required=True, type=click.Choice(ORGANISATION_KINDS))
@click.option("--district", required=True, type=click.Choice(DISTRICTS), help="所属地区, e.g. 闵行区.")
@click.option("--group", "group_uscc", help="USCC of the group company (集团公司) this unit reports to.")
@with_appcontext
def orgs_create(uscc: str, name: str, kind: str, district: str, group_uscc: str | None) -> None:
    """Register an organisation under its unified social credit code (GB 32100 check digit checked)."""
    code = _checked_uscc(uscc, "USCC")
    if not name.strip():
        raise click.BadParameter("the name may not be empty", param_hint="--name")
    with db.transaction() as session:
        if session.scalar(select(Organisation.id).where(Organisation.uscc == code)) is not None:
            raise click.BadParameter(f"an organisation with code {code} is already registered", param_hint="USCC")
        group_id = None
        if group_uscc:
            group_code = _checked_uscc(group_uscc, "--group")
            group = _organisation(session, group_code)
            if group is None or group.kind != "group_company":
                raise click.BadParameter(
                    f"{group_code} is not a registered group company (kind group_company)", param_hint="--group"
                )
            group_id = group.id
        org = Organisation(uscc=code, name=name.strip(), kind=kind, district=district, group_id=group_id)
        session.add(org)
        session.flush()
        org_id = org.id
    click.echo(f"created organisation {org_id}: {code} {name.strip()} ({kind}, {district})")


@click.group("users")
def users_group() -> None:
    """Accounts: create, list, issue API tokens."""


@users_group.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--district", type=click.Choice(DISTRICTS), help="A district reviewer's district.")
@click.option("--org", "org_uscc", help="USCC of the user's organisation (an applicant's unit, a group company).")
@click.option("--email", help="E-mail address for notifications.")
@click.option("--name", "display_name", default="", help="Name shown to others.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@with_appcontext
def users_create(
    username: str,
    role: str,
    district: str | None,
    org_uscc: str | None,
    email: str | None,
    display_name: str,
    password_stdin: bool,
) -> None:
    """Create an account; the password comes on standard input, never as an argument (shell history)."""
    if not USERNAME.match(username):
        raise click.BadParameter(
            f"'{username}': 2–64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
            param_hint="USERNAME",
        )
    if not password_stdin:
        raise click.UsageError("give --password-stdin and the password on standard input, e.g. from a secret file")
    if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise click.BadParameter(f"'{email}' is not an e-mail address", param_hint="--email")
    password = sys.stdin.readline().rstrip("\r\n")
    problem = password_problem(password, username)
    if problem:
        raise click.BadParameter(f"password refused: {problem}", param_hint="--password-stdin")
    if district and role != "district_reviewer":
        raise click.BadParameter(f"only a district reviewer has a district, not a {role}", param_hint="--district")
    with db.transaction() as session:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise click.BadParameter(f"'{username}' is already taken", param_hint="USERNAME")
        org = None
        if org_uscc:
            code = _checked_uscc(org_uscc, "--org")
            org = _organisation(session, code)
            if org is None:
                raise click.BadParameter(f"no organisation {code}: create it with `orgs create`", param_hint="--org")
        if role == "applicant" and org is None:
            raise click.BadParameter("an applicant acts for an organisation: give --org USCC", param_hint="--org")
        if role == "applicant" and org is not None and org.kind == "group_company":
            raise click.BadParameter(
                f"{org.uscc} is a group company; applicants belong to the unit that applies", param_hint="--org"
            )
        if role == "district_reviewer" and not district and (org is None or org.kind != "group_company"):
            raise click.BadParameter(
                "a district reviewer needs --district, or --org of a group company whose units it reviews",
                param_hint="--district",
            )
        user = User(
            username=username,
            display_name=display_name or username,
            email=email,
            password_hash=hash_password(password),
            role=role,
            district=district,
            organisation_id=org.id if org else None,
        )
        session.add(user)
        session.flush()
        scope = ", ".join(filter(None, [district, org.name if org else None])) or "no scope limit within the role"
        click.echo(f"created user {user.id}: {username} ({role}; {scope})")


@users_group.command("token")
@click.argument("username")
@click.option("--hours", type=click.IntRange(1, 24 * 366), help="Validity (default: TOKEN_TTL_HOURS).")
@with_appcontext
def users_token(username: str, hours: int | None) -> None:
    """Print a new API bearer token for USERNAME (only its hash is stored: keep it now)."""
    ttl = hours or int(current_app.config["TOKEN_TTL_HOURS"])
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            raise click.BadParameter(f"no user '{username}'", param_hint="USERNAME")
        if not user.active:
            raise click.ClickException(f"'{username}' is deactivated: no token issued")
        token, row = issue_token(session, user, ttl, label="cli")
        expires = as_utc(row.expires_at)
    click.echo(token)
    click.echo(f"token for {username}, valid until {expires:%Y-%m-%d %H:%M}Z", err=True)


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """Every account with its role and scope."""
    with db.transaction() as session:
        rows = session.execute(
            select(User, Organisation.name)
            .outerjoin(Organisation, User.organisation_id == Organisation.id)
            .order_by(User.role, User.username)
        ).all()
        lines = [
            f"{u.username:<20} {u.role:<20} {'active' if u.active else 'inactive':<8} "
            f"{u.district or ''}{' ' if u.district and org else ''}{org or ''}"
            for u, org in rows
        ]
    for line in lines:
        click.echo(line)
