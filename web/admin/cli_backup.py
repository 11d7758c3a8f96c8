"""`manage.py backup DIR` and `manage.py restore DIR`: the whole installation (database, blobs, the keys' names)."""

from __future__ import annotations

import hashlib
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import click
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext

from storage import backup as backups
from storage import signing
from web.core import archives, migrate
from web.core.extensions import blob_store
from workflow import audit
from workflow.db import db


def app_version() -> str:
    try:
        return version("emc-subsidy")
    except PackageNotFoundError:
        return "unknown"


def key_names() -> dict[str, Any]:
    """The public names of the keys the data needs, never a key (they belong in a secret store, apart)."""
    audit_ids = [audit.key_id(k) for k in current_app.config["AUDIT_KEYS"] if k]
    return {
        "audit_key_id": audit_ids[0] if audit_ids else None,
        "audit_key_ids_previous": audit_ids[1:],
        "archive_signing_algorithm": current_app.config["ARCHIVE_SIGNING_ALGORITHM"],
        "archive_public_key_fingerprint": signing.fingerprint(archives.public_pem(current_app)),
    }


class _Shown:
    """Progress: a line when a stage starts, a bar through the blobs and the hashes (to stderr, so a pipe is clean)."""

    def __init__(self) -> None:
        self.stage: str | None = None
        self.bar: Any = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage, self.done = stage, 0
            if total > 1:
                self.bar = click.progressbar(length=total, label=stage, file=sys.stderr)
                self.bar.__enter__()
            else:
                click.echo(f"{stage} …", err=True)
        if self.bar is not None:
            self.bar.update(done - self.done)
            self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--pg-bin", default=None, help="The folder of pg_dump (its major version must be the server's).")
@with_appcontext
def backup_command(folder: Path, pg_bin: str | None) -> None:
    """Back up the database, every blob and the keys' public names to FOLDER (new or empty), with a manifest."""
    shown = _Shown()
    try:
        manifest = backups.backup(
            current_app.config["DATABASE_URL"],
            blob_store(current_app),
            folder,
            keys=key_names(),
            app_version=app_version(),
            pg_bin=pg_bin,
            progress=shown,
        )
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        shown.close()
    size = sum(f["size"] for f in manifest.files.values())
    digest = hashlib.sha256((folder / backups.MANIFEST).read_bytes()).hexdigest()
    click.echo(f"backup written to {folder}: {len(manifest.files)} files, {size} bytes, {len(manifest.blobs)} blobs, "
               f"{sum(manifest.tables.values())} rows in {len(manifest.tables)} tables, revision "
               f"{manifest.alembic_revision}")  # fmt: skip
    if manifest.audit_head:
        click.echo(f"audit head: {manifest.audit_head['seq']} {manifest.audit_head['hash']}")
    click.echo(f"manifest sha256: {digest}  (record it apart from the backup)")
    click.echo(
        "the keys are not in it: keep AUDIT_KEY, ARCHIVE_SIGNING_KEY and FIELD_ENCRYPTION_KEYS in the secret store"
    )


@click.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database and blob store that are not empty.")
@click.option("--pg-bin", default=None, help="The folder of pg_restore (its major version must be the server's).")
@with_appcontext
def restore_command(folder: Path, force: bool, pg_bin: str | None) -> None:
    """Restore a backup into the configured database and blob store (both empty, unless --force); every file is
    checked against the manifest first, and nothing is touched if one differs."""
    url = current_app.config["DATABASE_URL"]
    scripts = ScriptDirectory.from_config(migrate.alembic_config(url))
    known = {rev.revision for rev in scripts.walk_revisions()}
    if db.engine is not None:
        db.engine.dispose()  # no pooled connection into the database about to be replaced
    shown = _Shown()
    try:
        manifest = backups.restore(
            folder, url, blob_store(current_app), known_revisions=known, force=force, pg_bin=pg_bin, progress=shown
        )
    except backups.BackupError as exc:
        raise click.ClickException(f"restore refused: {exc}") from None
    finally:
        shown.close()
    click.echo(f"restored {sum(manifest.tables.values())} rows in {len(manifest.tables)} tables and "
               f"{len(manifest.blobs)} blobs from {folder} (made {manifest.created_at}, version "
               f"{manifest.app_version})")  # fmt: skip
    configured = key_names()
    if manifest_keys := _keys_of(folder):
        wanted = manifest_keys.get("audit_key_id")
        have = {configured["audit_key_id"], *configured["audit_key_ids_previous"]}
        if wanted and wanted not in have:
            click.echo(f"warning: the backup's audit key {wanted} is not configured (AUDIT_KEY or "
                       "AUDIT_KEYS_PREVIOUS): its chain cannot be verified", err=True)  # fmt: skip
    with db.transaction() as session:
        verification = audit.verify(session)
    click.echo(str(verification))
    head = scripts.get_current_head()
    if manifest.alembic_revision != head:
        raise click.ClickException(f"the restored schema is at revision {manifest.alembic_revision}, the code's "
                                   f"head is {head}: run `manage.py init` to migrate it")  # fmt: skip
    if not verification.ok:
        raise click.ClickException("the restored audit chain does not verify")


def _keys_of(folder: Path) -> dict[str, Any]:
    import json

    return dict(json.loads((folder / backups.KEYS).read_text("utf-8")))


COMMANDS: tuple[click.Command, ...] = (backup_command, restore_command)
