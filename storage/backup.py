"""Backup and restore of a whole installation (issue 16 item 5): the database, every blob, the keys' public names.

A backup is a folder:

- `database.dump` (PostgreSQL, `pg_dump -Fc`) or `database.sqlite3` (SQLite, a consistent copy by sqlite3's backup
  API);
- `blobs/<key>`: every object of the blob store, byte for byte;
- `keys.json`: the public names of the keys the data needs (the audit chain's key ids, the archive signing key's
  fingerprint), never a key: the keys live in a secret store, apart from the backups;
- `manifest.json`: every other file's sha256 and size, the alembic revision, the app version, the rows in each
  table, the audit chain's head, when it was made.

It is written to `DIR.tmp` and renamed to `DIR` when complete, so a folder named DIR is always a whole backup.
A restore checks every file against the manifest before it touches anything, and refuses a non-empty target.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, inspect, make_url, text
from sqlalchemy.engine import URL

from storage.blobs import CHUNK, BlobStore

FORMAT = 1
MANIFEST = "manifest.json"
KEYS = "keys.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
BLOBS = "blobs"

Progress = Callable[[str, int, int], None]  # (stage, done, total): a stage's lines or a bar


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message names what is wrong (a file, a table, a revision)."""


@dataclass
class Manifest:
    created_at: str
    app_version: str
    dialect: str
    alembic_revision: str | None
    tables: dict[str, int]
    audit_head: dict[str, Any] | None
    files: dict[str, dict[str, Any]]
    blobs: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> {"retained_until": iso or None}
    format: int = FORMAT

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        try:
            data = json.loads((folder / MANIFEST).read_text("utf-8"))
        except FileNotFoundError:
            raise BackupError(f"{folder} holds no {MANIFEST}: not a backup") from None
        except json.JSONDecodeError as exc:
            raise BackupError(f"{MANIFEST} is not valid JSON ({exc})") from None
        if data.get("format") != FORMAT:
            raise BackupError(f"{MANIFEST} is format {data.get('format')}, this code reads format {FORMAT}")
        return cls(**data)


def _nothing(_stage: str, _done: int, _total: int) -> None:
    return None


def file_digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for pg_dump/pg_restore, the password in the environment (not on `ps`)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def _tool(name: str, pg_bin: str | None) -> str:
    path = Path(pg_bin) / name if pg_bin else shutil.which(name)
    if path is None or not Path(path).exists():
        raise BackupError(
            f"{name} not found (install the PostgreSQL client of the server's major version, or --pg-bin)"
        )
    return str(path)


def _run(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}")


def _census(conn: Connection) -> tuple[str | None, dict[str, int], dict[str, Any] | None]:
    """The alembic revision, the rows of each table, the audit chain's head, as `conn` sees them."""
    names = sorted(inspect(conn).get_table_names())
    tables = {name: int(conn.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()) for name in names}
    revision = None
    if "alembic_version" in tables:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    head = None
    if "audit_head" in tables:
        row = conn.execute(text("SELECT last_seq, last_hash FROM audit_head ORDER BY id LIMIT 1")).first()
        head = {"seq": int(row[0]), "hash": row[1]} if row else None
    return revision, tables, head


@contextmanager
def _postgres_snapshot(url: URL) -> Iterator[tuple[Connection, str]]:
    """A repeatable-read transaction and its exported snapshot: pg_dump and the census see the same data."""
    engine = create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as conn, conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            yield conn, snapshot
    finally:
        engine.dispose()


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path, *, frozen: bool = False) -> None:
    """sqlite3's online backup: a consistent copy even while others write (they wait or it restarts).

    The copy is one self-contained file (rollback journal, not WAL), so reading it later leaves no -wal or -shm
    beside it; the app turns WAL on again when it connects. `frozen`: the source is a backup's copy, read as
    immutable so not even a lock file is made beside it.
    """
    src = sqlite3.connect(f"file:{source}?mode=ro{'&immutable=1' if frozen else ''}", uri=True)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        src.close()
        dst.close()


def _census_of(url: URL) -> tuple[str | None, dict[str, int], dict[str, Any] | None]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return _census(conn)
    finally:
        engine.dispose()


def backup(
    database_url: str,
    store: BlobStore,
    target: Path,
    *,
    keys: dict[str, Any],
    app_version: str,
    pg_bin: str | None = None,
    progress: Progress = _nothing,
    now: dt.datetime | None = None,
) -> Manifest:
    """Write a whole backup to `target` (refused if it exists and is not empty); returns its manifest."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} exists and is not empty: a backup goes to a new folder")
    staging = target.with_name(target.name + ".tmp")
    if staging.exists():
        shutil.rmtree(staging)  # a killed backup's leftovers: never a backup (it was not renamed)
    staging.mkdir(parents=True)
    try:
        manifest = _write(database_url, store, staging, keys, app_version, pg_bin, progress, now)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # never a half backup left looking like one
        raise
    if target.exists():
        target.rmdir()  # empty, checked above
    os.replace(staging, target)
    return manifest


def _write(
    database_url: str,
    store: BlobStore,
    staging: Path,
    keys: dict[str, Any],
    app_version: str,
    pg_bin: str | None,
    progress: Progress,
    now: dt.datetime | None,
) -> Manifest:
    url = make_url(database_url)
    dialect = url.get_backend_name()
    progress("database", 0, 1)
    if dialect == "postgresql":
        dsn, env = _libpq(url)
        with _postgres_snapshot(url) as (conn, snapshot):
            revision, tables, head = _census(conn)
            _run([_tool("pg_dump", pg_bin), "-Fc", "--no-owner", "--no-acl", f"--snapshot={snapshot}",
                  "-f", str(staging / PG_DUMP), dsn], env)  # fmt: skip
    elif dialect == "sqlite":
        copy = staging / SQLITE_COPY
        _sqlite_copy(_sqlite_path(url), copy)
        revision, tables, head = _census_of(URL.create("sqlite", database=str(copy)))
    else:
        raise BackupError(f"no backup for a {dialect} database")
    if revision is None:
        raise BackupError("the database has no schema revision (alembic_version): not this app's, or never migrated")
    progress("database", 1, 1)
    # After the database: a row names a blob only once the blob is stored, so every blob the dump names is here.
    blobs: dict[str, dict[str, Any]] = {}
    listed = list(store.iter_keys())
    for done, key in enumerate(listed, 1):
        path = staging / BLOBS / key
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            for chunk in store.open(key):
                out.write(chunk)
        until = store.retained_until(key)
        blobs[key] = {"retained_until": until.isoformat() if until else None}
        progress("blobs", done, len(listed))
    (staging / KEYS).write_text(json.dumps(keys, indent=2, sort_keys=True, ensure_ascii=False) + "\n", "utf-8")
    files: dict[str, dict[str, Any]] = {}
    written = sorted(p for p in staging.rglob("*") if p.is_file())
    for done, path in enumerate(written, 1):
        sha256, size = file_digest(path)
        files[path.relative_to(staging).as_posix()] = {"sha256": sha256, "size": size}
        progress("hashes", done, len(written))
    manifest = Manifest(
        created_at=(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        app_version=app_version,
        dialect=dialect,
        alembic_revision=revision,
        tables=tables,
        audit_head=head,
        files=files,
        blobs=blobs,
    )
    with (staging / MANIFEST).open("w", encoding="utf-8") as out:
        json.dump(manifest.__dict__, out, indent=2, sort_keys=True, ensure_ascii=False)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    return manifest


def verify(folder: Path, progress: Progress = _nothing) -> Manifest:
    """Every file against the manifest (hash and size), and no file it does not name; raises naming the first."""
    folder = Path(folder)
    manifest = Manifest.read(folder)
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {MANIFEST}
    for name in sorted(present - set(manifest.files)):
        raise BackupError(f"{name}: not in the manifest (added after the backup was made?)")
    for done, (name, expected) in enumerate(sorted(manifest.files.items()), 1):
        if name not in present:
            raise BackupError(f"{name}: missing from the backup")
        sha256, size = file_digest(folder / name)
        if (sha256, size) != (expected["sha256"], expected["size"]):
            raise BackupError(f"{name}: does not match the manifest (sha256 {sha256}, {size} bytes; "
                              f"the manifest says {expected['sha256']}, {expected['size']} bytes)")  # fmt: skip
        progress("verify", done, len(manifest.files))
    for key in manifest.blobs:
        if f"{BLOBS}/{key}" not in manifest.files:
            raise BackupError(f"blob {key}: listed but not in the manifest's files")
    return manifest


def _database_empty(url: URL) -> list[str]:
    """The tables the target already holds (an empty list: empty)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def restore(
    source: Path,
    database_url: str,
    store: BlobStore,
    *,
    known_revisions: set[str],
    force: bool = False,
    pg_bin: str | None = None,
    progress: Progress = _nothing,
) -> Manifest:
    """Read a backup back into an empty database and blob store (a non-empty one only with `force`, emptied first).

    Everything is checked before anything is touched: every file against the manifest, the dialect, a revision
    this code knows, an empty target. Afterwards each table holds as many rows as the manifest says.
    """
    source = Path(source)
    manifest = verify(source, progress)
    url = make_url(database_url)
    dialect = url.get_backend_name()
    if dialect != manifest.dialect:
        raise BackupError(f"the backup is of a {manifest.dialect} database; the target is {dialect}")
    if manifest.alembic_revision not in known_revisions:
        raise BackupError(f"the backup's schema revision {manifest.alembic_revision} is unknown to this code: "
                          f"restore it with the version that made it ({manifest.app_version})")  # fmt: skip
    tables = [] if dialect == "sqlite" and not _sqlite_path(url).exists() else _database_empty(url)
    if tables and not force:
        raise BackupError(f"the target database is not empty ({len(tables)} tables, e.g. {tables[0]}): "
                          "restore into an empty one, or give --force to replace it")  # fmt: skip
    stored = next(iter(store.iter_keys()), None)
    if stored is not None and not force:
        raise BackupError(f"the target blob store is not empty (it holds {stored}): restore into an empty one, "
                          "or give --force")  # fmt: skip
    progress("database", 0, 1)
    if dialect == "postgresql":
        if tables:
            _empty_postgres(url)
        dsn, env = _libpq(url)
        _run([_tool("pg_restore", pg_bin), "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction",
              "-d", dsn, str(source / PG_DUMP)], env)  # fmt: skip
    else:
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(path.name + ".restoring")
        staged.unlink(missing_ok=True)
        _sqlite_copy(source / SQLITE_COPY, staged, frozen=True)
        for stale in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)  # a replaced file's journal must not be replayed into the new one
        os.replace(staged, path)
        path.chmod(0o600)
    progress("database", 1, 1)
    for done, (key, meta) in enumerate(sorted(manifest.blobs.items()), 1):
        with (source / BLOBS / key).open("rb") as fh:
            if meta.get("retained_until"):
                store.put_retained(key, fh, dt.datetime.fromisoformat(meta["retained_until"]))  # type: ignore[arg-type]
            else:
                store.put(key, fh)  # type: ignore[arg-type]
        progress("blobs", done, len(manifest.blobs))
    revision, counts, head = _census_of(url)
    if revision != manifest.alembic_revision:
        raise BackupError(f"the restored database is at revision {revision}, the manifest says "
                          f"{manifest.alembic_revision}")  # fmt: skip
    differ = sorted(t for t in manifest.tables if counts.get(t) != manifest.tables[t])
    if differ:
        name = differ[0]
        raise BackupError(f"table {name}: {counts.get(name)} rows restored, the manifest says {manifest.tables[name]}")
    if head != manifest.audit_head:
        raise BackupError(f"the restored audit head is {head}, the manifest says {manifest.audit_head}")
    return manifest


def _empty_postgres(url: URL) -> None:
    """--force: the public schema dropped and made again (every table, sequence and partition of the old data)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


__all__ = ["BackupError", "Manifest", "backup", "file_digest", "restore", "verify"]
