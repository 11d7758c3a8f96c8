"""`manage.py binder build`: an application's binder (附件4 of seed 002) as .docx, from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from applications import binder
from web.core.extensions import blob_store
from workflow.accounts import SYSTEM
from workflow.db import db
from workflow.errors import NotFound


@click.group("binder")
def binder_group() -> None:
    """Binders: an application's material bound as 附件4 of seed 002 prescribes."""


@binder_group.command("build")
@click.argument("application_id", type=click.IntRange(min=1))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The .docx.")
@with_appcontext
def binder_build(application_id: int, out: Path) -> None:
    """Build APPLICATION_ID's binder: cover, contents, the form, the report, the attachments with their index.
    Attachments stream one at a time; the bar shows them. Nothing is written if it fails."""
    store = blob_store(current_app)
    partial = out.with_name(out.name + ".partial")
    with click.progressbar(length=1, label="attachments", show_pos=True) as bar:

        def progress(done: int, of: int, _what: str) -> None:
            bar.length = of
            bar.update(done - bar.pos)

        try:
            with db.transaction() as session, partial.open("wb") as stream:
                app, bound = binder.bind(session, SYSTEM, application_id, store, stream, progress)
                name = app.project_name
        except NotFound:
            partial.unlink(missing_ok=True)
            raise click.ClickException(f"application {application_id} not found") from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    partial.replace(out)
    placed = sum(1 for b in bound if b.placed)
    click.echo(
        f"{out}: the binder of #{application_id}《{name}》, {len(bound)} attachments ({placed} placed as images)"
    )


COMMANDS: tuple[click.Command, ...] = (binder_group,)
