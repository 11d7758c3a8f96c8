"""`manage.py binder build` (附件4's binder as .docx) and `archive build | verify | public-key` (signed packages)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from applications import binder
from storage import signing
from storage.models import ArchivePackage
from web.archive import package
from web.core import archives
from web.core.extensions import blob_store
from workflow.accounts import SYSTEM
from workflow.db import db, utcnow
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
    images = sum(1 for b in bound if b.placed and b.pages is None)
    pages, whole = sum(b.rendered for b in bound), sum(1 for b in bound if b.placed)
    click.echo(
        f"{out}: the binder of #{application_id}《{name}》, {len(bound)} attachments ({images} images and "
        f"{pages} PDF pages placed; {len(bound) - whole} listed only, or in part)"
    )


def _retention(row: ArchivePackage) -> str:
    if row.retained_until is None:
        return "not write-once (the blob store enforces no retention; S3 with object lock does)"
    return f"write-once until {row.retained_until:%Y-%m-%d} (object lock, COMPLIANCE)"


@click.group("archive")
def archive_group() -> None:
    """Archive packages: an application's file as a signed BagIt bag, made when it is archived, checked offline."""


@archive_group.command("build")
@click.argument("application_id", type=click.IntRange(min=1))
@with_appcontext
def archive_build(application_id: int) -> None:
    """Make a package of APPLICATION_ID now (one is made on its own when an application is archived)."""
    try:
        with db.transaction() as session:
            row = package.make(
                session,
                application_id,
                blob_store(current_app),
                archives.signer(current_app),
                "cli",
                retain_until=archives.retain_until(current_app, utcnow()),
            )
            line = f"package {row.id} of #{application_id}: {row.files} files, {row.size:,} bytes, sha256 {row.sha256}"
            line += f"; {_retention(row)}"
    except NotFound:
        raise click.ClickException(f"application {application_id} not found") from None
    click.echo(line)


@archive_group.command("verify")
@click.argument("application_id", type=click.IntRange(min=1))
@click.option(
    "--public-key",
    "public_key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The signer's public key (PEM), e.g. from /archive/public-key; default: this installation's.",
)
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="A package file.")
@with_appcontext
def archive_verify(application_id: int, public_key: Path | None, file: Path | None) -> None:
    """Re-check APPLICATION_ID's latest package (or --file) offline: every hash, the signature, the application's
    audit events. Names each difference; the exit status is 1 if there is any."""
    pem = public_key.read_bytes() if public_key is not None else archives.public_pem(current_app)
    held, problems = "", []
    with tempfile.TemporaryDirectory(prefix="archive-verify-") as tmp:
        if file is None:
            with db.transaction() as session:
                row = archives.latest(session, application_id)
            if row is None:
                raise click.ClickException(f"application {application_id} has no archive package")
            store = blob_store(current_app)
            file = archives.fetch(store, row, Path(tmp))
            problems, held = archives.retention_problems(store, row), f"; {_retention(row)}"
        verdict = archives.verify_file(file, pem, application_id)
    problems = verdict.problems + problems
    if not problems:
        key = signing.fingerprint(pem)
        click.echo(
            f"#{application_id}: intact — every hash, the signature (key {key}), {verdict.events} audit events{held}"
        )
        return
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    raise click.ClickException(f"#{application_id}: {len(problems)} differences")


@archive_group.command("public-key")
@with_appcontext
def archive_public_key() -> None:
    """Print the public half of the key that signs packages (PEM)."""
    click.echo(archives.public_pem(current_app).decode(), nl=False)


COMMANDS: tuple[click.Command, ...] = (binder_group, archive_group)
