"""CLI for the review desks: the expert pool (`experts …`), panel draws (`panel verify`), key-unit lists."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from review import keyunits, panels
from review import pool as expert_pool
from web.panel.serializers import profile_json
from workflow.accounts import DISTRICTS, SYSTEM
from workflow.db import db
from workflow.errors import InvalidInput
from workflow.visibility import get_visible

# The operation's field names as the command line spells them.
_HINTS = {
    "username": "USERNAME",
    "employer_uscc": "--employer-uscc",
    "employer_name": "--employer",
    "district": "--district",
    "specialities": "--speciality",
    "uscc": "--uscc",
    "name": "--name",
    "note": "--note",
}


def _refused(exc: InvalidInput) -> click.ClickException:
    """The operation's problems as click reports them: one names its option, several are listed."""
    if len(exc.problems) == 1:
        problem = exc.problems[0]
        return click.BadParameter(problem.message, param_hint=_HINTS.get(problem.field, problem.field))
    lines = [f"  - {_HINTS.get(p.field, p.field)}: {p.message}" for p in exc.problems]
    return click.ClickException("refused:\n" + "\n".join(lines))


@click.group("experts")
def experts_group() -> None:
    """The expert pool panels are drawn from: profiles (employer, district, specialities) and declared ties."""


@experts_group.command("add")
@click.argument("username")
@click.option("--employer-uscc", required=True, help="Employer's unified social credit code (GB 32100 check digit).")
@click.option("--employer", "employer_name", required=True, help="Employer's name.")
@click.option("--district", required=True, type=click.Choice(DISTRICTS), help="The expert's district, e.g. 徐汇区.")
@click.option("--speciality", "specialities", multiple=True, help="A speciality (repeat the option for more).")
@with_appcontext
def experts_add(
    username: str, employer_uscc: str, employer_name: str, district: str, specialities: tuple[str, ...]
) -> None:
    """Put the expert account USERNAME in the pool, or update its profile (it is then active again)."""
    try:
        profile = expert_pool.add_expert(SYSTEM, username, employer_uscc, employer_name, district, specialities)
    except InvalidInput as exc:
        raise _refused(exc) from None
    shown = "、".join(profile.specialities) or "no speciality given"
    click.echo(f"{username} is in the pool: {profile.employer_name} ({profile.employer_uscc}), {district}; {shown}")


@experts_group.command("list")
@click.option("--district", type=click.Choice(DISTRICTS), help="Only experts of this district.")
@click.option("--speciality", help="Only experts with a speciality containing this text.")
@with_appcontext
def experts_list(district: str | None, speciality: str | None) -> None:
    """The pool by username: employer, district, specialities, and whether the expert can be drawn."""
    with db.transaction() as session:
        lines = []
        for row in expert_pool.experts(session, district, speciality):
            shown = profile_json(row)
            lines.append(
                f"{shown['username']:<20} {'active' if shown['active'] else 'inactive':<8} "
                f"{shown['employer_uscc']} {shown['employer_name']:<24} {shown['district'] or '':<6} "
                f"{'、'.join(shown['specialities'])}"
            )
            lines.extend(
                f"{'':<20} tie: {tie.uscc} {tie.name}{' — ' + tie.note if tie.note else ''}"
                for tie in expert_pool.relationships_of(session, row.user_id)
            )
    if not lines:
        click.echo("no expert in the pool" + (" matches" if district or speciality else ": add one with `experts add`"))
    for line in lines:
        click.echo(line)


@experts_group.command("relate")
@click.argument("username")
@click.option("--uscc", required=True, help="The organisation's unified social credit code.")
@click.option("--name", default="", help="The organisation's name.")
@click.option("--note", default="", help="What the tie is (former employer, family, adviser …).")
@with_appcontext
def experts_relate(username: str, uscc: str, name: str, note: str) -> None:
    """Record a tie between USERNAME and an organisation: the expert is never drawn for its applications."""
    try:
        row = expert_pool.relate(SYSTEM, username, uscc, name, note)
    except InvalidInput as exc:
        raise _refused(exc) from None
    click.echo(f"{username} is tied to {row.uscc}{' ' + row.name if row.name else ''}: never drawn for it")


@click.group("panel")
def panel_group() -> None:
    """Expert panels."""


@panel_group.command("verify")
@click.argument("application_id", type=int)
@with_appcontext
def panel_verify(application_id: int) -> None:
    """Recompute every draw of APPLICATION_ID from its stored seed and pool; exit 1 if any differs."""
    with db.transaction() as session:
        if get_visible(session, SYSTEM, application_id) is None:
            raise click.BadParameter(f"no application {application_id}", param_hint="APPLICATION_ID")
        results = [panels.verify_draw(session, draw.id) for draw in panels.draws_of(session, application_id)]
    if not results:
        click.echo(f"application {application_id} has no panel draw yet")
        return
    for ok, detail in results:
        click.echo(f"{'ok' if ok else 'MISMATCH'}  {detail}")
    failed = sum(1 for ok, _ in results if not ok)
    if failed:
        raise click.ClickException(f"{failed} of {len(results)} draws do not reproduce")
    click.echo(f"all {len(results)} draws reproduce")


@click.group("keyunits")
def keyunits_group() -> None:
    """The key energy-using unit lists (重点用能（排放）单位名单) the monitoring fund checks its applicants against."""


@keyunits_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", required=True, type=int, help="The list's year, e.g. 2021; every row's year must equal it.")
@with_appcontext
def keyunits_import(file: Path, year: int) -> None:
    """Import FILE, a UTF-8 CSV with the header `uscc,name,year`, as the YEAR list.

    Every bad row is named (line, column, reason) and then nothing is imported. Units already on the list are kept
    (a changed name is corrected); importing the same file again changes nothing.
    """
    try:
        result = keyunits.import_file(SYSTEM, file.read_bytes(), year, source=file.name)
    except InvalidInput as exc:
        if len(exc.problems) == 1 and exc.problems[0].field == "year":
            raise click.BadParameter(exc.problems[0].message, param_hint="--year") from None
        lines = [f"  - {p.message}" for p in exc.problems]
        raise click.ClickException(f"{file.name}: {exc.detail}\n" + "\n".join(lines)) from None
    if not result.changed:
        click.echo(f"{year} list: nothing changed ({result.unchanged} units already on it; {result.on_list} in all)")
        return
    click.echo(
        f"{year} list: {result.added} added, {result.renamed} renamed, {result.unchanged} already there; "
        f"{result.on_list} units on the list"
    )


COMMANDS: tuple[click.Command, ...] = (experts_group, panel_group, keyunits_group)
