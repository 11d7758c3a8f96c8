"""Archive packages (issue 13 item 6): made when an application is archived, a BagIt bag with a SHA-256 manifest
whose tag manifest is signed; `archive verify` re-checks every hash, the signature and the audit events offline,
and names what differs. A changed byte, a missing file and a forged manifest each fail."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import bagit
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from docx import Document
from minio.error import S3Error
from sqlalchemy import select

from storage import bags, signing
from storage.blobs import from_url
from storage.models import ArchivePackage
from tests import factories
from web.archive import review_binder, tasks
from web.core import archives
from web.core.extensions import blob_store
from workflow.db import as_utc, db, utcnow
from workflow.models import AuditEvent


def _archived(app, cast) -> int:  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "paid")  # the whole way: reviewed, verified, awarded, paid
    factories.drive_to(cast, app_id, "archived")
    return app_id


def _package_file(app, app_id: int, into: Path) -> Path:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        row = archives.latest(session, app_id)
        assert row is not None
        session.expunge(row)
    return archives.fetch(blob_store(app), row, into)


def _rezip(source: Path, target: Path, change) -> Path:  # type: ignore[no-untyped-def]
    """Unpack the package, let `change` alter the bag's folder, pack it again."""
    folder = target.with_suffix("")
    with zipfile.ZipFile(source) as bundle:
        bundle.extractall(folder)
    change(folder / bags.TOP)
    with zipfile.ZipFile(target, "w") as bundle:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            bundle.write(file, file.relative_to(folder).as_posix())
    return target


def test_archiving_makes_one_signed_package_that_verifies(app, cast, runner, tmp_path):
    app_id = _archived(app, cast)
    with db.transaction() as session:
        [row] = session.scalars(select(ArchivePackage).where(ArchivePackage.application_id == app_id)).all()
        assert row.algorithm == "ed25519" and row.key == signing.fingerprint(archives.public_pem(app))
        packed = session.scalars(
            select(AuditEvent).where(AuditEvent.application_id == app_id, AuditEvent.outcome == "archive_packed")
        ).one()
        assert packed.payload["sha256"] == row.sha256
        seq = row.source_event_seq
    with app.app_context():
        assert tasks.pack_on_transition(app_id, seq) == row.id  # delivered again: the same package, no second
    file = _package_file(app, app_id, tmp_path)
    with zipfile.ZipFile(file) as bundle:
        names = set(bundle.namelist())
    assert {"bag/bagit.txt", "bag/manifest-sha256.txt", "bag/tagmanifest-sha256.txt", "bag/signature.json"} <= names
    assert {
        "bag/data/application.json",
        "bag/data/binder/application-binder.docx",
        "bag/data/audit/events.jsonl",
    } <= names
    assert {"bag/data/binder/review-binder.docx", "bag/data/binder/verification-record.docx"} <= names
    assert any(n.startswith("bag/data/attachments/") for n in names)
    events = bags.read(file, "audit/events.jsonl").decode().splitlines()
    assert json.loads(events[-1])["to_state"] == "archived"
    result = runner.invoke(args=["archive", "verify", str(app_id)])
    assert result.exit_code == 0 and "intact" in result.output, result.output
    assert row.retained_until is None and "not write-once" in result.output  # a folder cannot promise it


def test_a_changed_byte_a_missing_file_and_a_forged_manifest_each_fail(app, cast, tmp_path):
    app_id = _archived(app, cast)
    good = _package_file(app, app_id, tmp_path)
    pem = archives.public_pem(app)
    assert archives.verify_file(good, pem, app_id).ok

    def change_byte(bag: Path) -> None:
        target = bag / "data" / "application.json"
        data = bytearray(target.read_bytes())
        data[10] ^= 1
        target.write_bytes(bytes(data))

    changed = archives.verify_file(_rezip(good, tmp_path / "changed.zip", change_byte), pem, app_id)
    assert any("application.json" in p and "sha256" in p for p in changed.problems), changed.problems

    def drop_binder(bag: Path) -> None:
        (bag / "data" / "binder" / "application-binder.docx").unlink()

    missing = archives.verify_file(_rezip(good, tmp_path / "missing.zip", drop_binder), pem, app_id)
    assert any("application-binder.docx" in p for p in missing.problems), missing.problems

    def forge(bag: Path) -> None:
        change_byte(bag)
        (bag / "signature.json").rename(bag.parent / "signature.json")
        bagit.Bag(str(bag)).save(manifests=True)  # every manifest recomputed: the bag alone now looks whole
        (bag.parent / "signature.json").rename(bag / "signature.json")

    forged = archives.verify_file(_rezip(good, tmp_path / "forged.zip", forge), pem, app_id)
    assert forged.problems and all("signature" in p for p in forged.problems), forged.problems

    other = Ed25519PrivateKey.generate()
    stranger = signing.Ed25519Signer(other).public_pem()
    assert any("does not verify" in p for p in archives.verify_file(good, stranger, app_id).problems)


def test_an_edited_audit_event_fails_even_if_someone_re_signs_the_package(app, cast, tmp_path):
    """Whoever holds the signing key but not the audit key cannot make an edited event pass."""
    app_id = _archived(app, cast)
    good = _package_file(app, app_id, tmp_path)

    def edit_event(bag: Path) -> None:
        events = bag / "data" / "audit" / "events.jsonl"
        lines = events.read_text().splitlines()
        first = json.loads(lines[0])
        first["actor"] = "someone_else"
        events.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
        (bag / "signature.json").unlink()

    folder_zip = _rezip(good, tmp_path / "edited.zip", edit_event)
    with zipfile.ZipFile(folder_zip) as bundle:
        bundle.extractall(tmp_path / "resign")
    bag = tmp_path / "resign" / bags.TOP
    bagit.Bag(str(bag)).save(manifests=True)
    payload = [
        (p.relative_to(bag / "data").as_posix(), [p.read_bytes()]) for p in (bag / "data").rglob("*") if p.is_file()
    ]
    resigned = tmp_path / "resigned.zip"
    bags.write(payload, {"External-Identifier": f"application-{app_id}"}, archives.signer(app), resigned)
    verdict = archives.verify_file(resigned, archives.public_pem(app), app_id)
    assert [p for p in verdict.problems if "does not match its hash" in p], verdict.problems


def test_the_public_key_is_published_without_a_login(app, cast, client, runner):
    page = client.get("/archive/public-key")
    assert page.status_code == 200 and page.data.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert page.headers["X-Key-Fingerprint"] == signing.fingerprint(page.data)
    printed = runner.invoke(args=["archive", "public-key"])
    assert printed.output.encode() == page.data


def test_the_review_binder_holds_what_the_desks_decided(app, cast, tmp_path):
    app_id = _archived(app, cast)
    file = _package_file(app, app_id, tmp_path)
    doc = Document(io.BytesIO(bags.read(file, "binder/review-binder.docx")))
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 1"] == list(review_binder.PARTS)
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = {c.text for t in doc.tables for r in t.rows for c in r.cells}
    assert {"申请表真实性", "法人资格", "运营情况", "经济状况"} <= cells  # seed 002 §五(一)'s checks, as recorded
    assert "专家组结论：通过" in text and "拨付" in text and "规则核定" in text
    with db.transaction() as session:
        events = session.scalars(select(AuditEvent.seq).where(AuditEvent.application_id == app_id)).all()
    timeline = doc.tables[-1]
    packed_after = 1  # the package's own event comes after the binder was written
    assert len(timeline.rows) - 1 == len(events) - packed_after


def test_on_s3_with_object_lock_the_package_is_write_once_for_the_retention_years(app, cast, runner, s3_endpoint):
    """Issue 13 item 6, "write-once where the backend supports it": COMPLIANCE retention, checked by verify."""
    saved, years = app.extensions.get("blobs"), app.config["ARCHIVE_RETENTION_YEARS"]
    app.extensions["blobs"] = locked = from_url(f"{s3_endpoint}/emc-archive-locked?object_lock=true")
    app.config["ARCHIVE_RETENTION_YEARS"] = 7
    try:
        before = utcnow()
        app_id = _archived(app, cast)
        with db.transaction() as session:
            row = archives.latest(session, app_id)
            assert row is not None and row.retained_until is not None
            held = as_utc(row.retained_until) - before
            assert dt.timedelta(days=7 * 365) <= held <= dt.timedelta(days=7 * 366)
            version = locked.client.stat_object(locked.bucket, row.blob_key).version_id
            key, package_id = row.blob_key, row.id
        with pytest.raises(S3Error):
            locked.client.remove_object(locked.bucket, key, version_id=version)
        result = runner.invoke(args=["archive", "verify", str(app_id)])
        assert result.exit_code == 0 and f"write-once until {row.retained_until:%Y-%m-%d}" in result.output
        # The row promises a year more than the store holds (a store swapped or its lock shortened): named.
        with db.transaction() as session:
            session.get(ArchivePackage, package_id).retained_until += dt.timedelta(days=366)
        result = runner.invoke(args=["archive", "verify", str(app_id)])
        assert result.exit_code == 1 and f"{key}: stored write-once until" in result.output, result.output
    finally:
        app.extensions["blobs"] = saved
        app.config["ARCHIVE_RETENTION_YEARS"] = years
