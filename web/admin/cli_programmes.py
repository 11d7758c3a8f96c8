"""`manage.py workflow`: the programmes' definitions — diagram, publish, list, docs and the annual round."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from workflow import definitions, diagram, operations, registry
from workflow.accounts import SYSTEM
from workflow.db import as_utc, db
from workflow.definitions import Definition, DefinitionError
from workflow.errors import InvalidInput
from workflow.models import ProgrammeVersion
from workflow.visibility import programme_definitions, visible_applications

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
    from web.core.config import PROJECT_ROOT

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


COMMANDS: tuple[click.Command, ...] = (workflow_group,)
