"""The restore drill (issue 16 item 5): a populated system backed up with `manage.py backup`, restored with
`manage.py restore` (its own process, as an operator runs it) into an empty database and an empty blob store, holds
every application, every attachment's bytes and the whole audit chain as they were; a tampered backup is refused
naming the file, before anything is touched."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.orm import Session

from storage import backup as backups
from storage.blobs import from_url
from tests import factories
from tests.support.worker import keys_env
from web.core import migrate
from workflow import audit
from workflow.db import db

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def empty_database(app, tmp_path: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A new, empty database of the run's dialect: a scratch PostgreSQL database, or a new SQLite file."""
    if db.dialect == "postgresql":
        with migrate.scratch_postgres(os.environ["TEST_DATABASE_URL"], prefix="emc_restore") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"


def _populate(app: Any, cast: factories.Cast) -> list[int]:
    """Applications in several states, each with its own uploaded files besides the required ones."""
    ids = []
    for n, target in enumerate(("draft", "district_review", "supplement_requested", "site_verification")):
        app_id = factories.new_application(cast, project_name=f"能源管理中心建设项目{n}")
        factories.upload(app, cast, app_id, "other", data=factories.SAMPLE_PDF + f"% drill {n}\n".encode())
        if target != "draft":
            factories.drive_to(cast, app_id, target)
        ids.append(app_id)
    return ids


def _rows(engine: Any, table: str, order: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))]


def test_a_populated_system_backed_up_and_restored_into_an_empty_one_is_the_same(
    app, cast, committed_db, runner, empty_database, tmp_path
):
    ids = _populate(app, cast)
    states = {app_id: factories.state_of(app_id)[0] for app_id in ids}
    assert sorted(states.values()) == sorted(["draft", "district_review", "supplement_requested", "site_verification"])
    folder = tmp_path / "backup"

    made = runner.invoke(args=["backup", str(folder)])
    assert made.exit_code == 0, made.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["alembic_revision"] and manifest["tables"]["applications"] >= len(ids)
    assert set(manifest["files"]) >= {"keys.json"} and not (tmp_path / "backup.tmp").exists()
    assert (
        "AUDIT_KEY" not in (folder / "keys.json").read_text()
        and app.config["AUDIT_KEYS"][0] not in (folder / "keys.json").read_text()
    )

    restored_blobs = tmp_path / "restored-blobs"
    env = {**os.environ, **keys_env(app), "DATABASE_URL": empty_database, "STORAGE_URL": f"file://{restored_blobs}"}
    env.pop("CELERY_BROKER_URL", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "restore", str(folder)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit chain intact" in done.stdout

    assert db.engine is not None
    original, restored = db.engine, create_engine(empty_database)
    try:
        columns = "id, state, version, form, reference"
        assert _rows(restored, "applications", "id") == _rows(original, "applications", "id")
        with restored.connect() as conn:
            got = {r[0]: r[1:] for r in conn.execute(text(f"SELECT {columns} FROM applications"))}
        assert {i: got[i][0] for i in ids} == states
        assert all(got[i][3] for i in ids if states[i] != "draft")  # the 申报编号 came back with them
        attachments = _rows(original, "attachments", "id")
        assert attachments and _rows(restored, "attachments", "id") == attachments
        store = from_url(f"file://{restored_blobs}")
        with original.connect() as conn:
            stored = conn.execute(text("SELECT blob_key, sha256 FROM attachments ORDER BY id")).all()
        for key, sha256 in stored:  # every attachment's bytes, read back through the restored store
            assert hashlib.sha256(b"".join(store.open(key))).hexdigest() == sha256, key
        events = _rows(original, "audit_events", "seq")
        assert len(events) > 20 and _rows(restored, "audit_events", "seq") == events
        assert _rows(restored, "audit_head", "id") == _rows(original, "audit_head", "id")
        with Session(restored) as session:
            verification = audit.verify(session)
        assert verification.ok, str(verification)
        assert manifest["audit_head"] == {"seq": events[-1][0], "hash": _rows(original, "audit_head", "id")[0][2]}
    finally:
        restored.dispose()


def test_a_tampered_backup_is_refused_naming_the_file_and_nothing_is_touched(
    app, cast, committed_db, runner, empty_database, tmp_path
):
    _populate(app, cast)
    folder = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(folder)]).exit_code == 0
    again = runner.invoke(args=["backup", str(folder)])  # a backup never goes over another
    assert again.exit_code != 0 and "not empty" in again.output
    manifest = json.loads((folder / "manifest.json").read_text())
    victim = sorted(name for name in manifest["files"] if name.startswith("blobs/"))[0]
    with (folder / victim).open("ab") as fh:
        fh.write(b"one more byte")
    target = tmp_path / "restored-blobs"
    store = from_url(f"file://{target}")
    known = {manifest["alembic_revision"]}

    with pytest.raises(backups.BackupError, match=victim):
        backups.restore(folder, empty_database, store, known_revisions=known)
    assert list(store.iter_keys()) == []
    engine = create_engine(empty_database)
    try:
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []  # not one table was made
    finally:
        engine.dispose()

    (folder / victim).unlink()
    with pytest.raises(backups.BackupError, match=f"{victim}: missing"):
        backups.restore(folder, empty_database, store, known_revisions=known)
    (folder / "blobs" / "extra").write_bytes(b"planted")
    with pytest.raises(backups.BackupError, match="blobs/extra: not in the manifest"):
        backups.verify(folder)


def test_a_restore_refuses_a_database_that_is_not_empty(app, cast, committed_db, runner, database_url, tmp_path):
    folder = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(folder)]).exit_code == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    store = from_url(f"file://{tmp_path / 'blobs'}")
    with pytest.raises(backups.BackupError, match="target database is not empty"):
        backups.restore(folder, database_url, store, known_revisions={manifest["alembic_revision"]})
    with pytest.raises(backups.BackupError, match="unknown to this code"):
        backups.restore(folder, database_url, store, known_revisions={"0000"})


def test_the_blobs_of_an_s3_store_are_backed_up_and_restored_into_another_store(
    app, database_url, empty_database, s3_endpoint, tmp_path
):
    source = from_url(f"{s3_endpoint}/backup-{tmp_path.name.lower().replace('_', '-')[:40]}")
    wanted = {"sha256/aa/one": b"first blob", "binders/bb/two.docx": b"second blob" * 1000}
    for key, data in wanted.items():
        source.put(key, io.BytesIO(data))
    folder = tmp_path / "backup"
    manifest = backups.backup(database_url, source, folder, keys={}, app_version="test")
    assert set(manifest.blobs) == set(wanted)
    target = from_url(f"file://{tmp_path / 'restored'}")
    backups.restore(folder, empty_database, target, known_revisions={manifest.alembic_revision or ""})
    assert {key: b"".join(target.open(key)) for key in target.iter_keys()} == wanted
