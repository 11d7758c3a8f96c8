"""The archive package of an application (issue 13 item 6): made when it is archived, verifiable offline.

What it holds, under `data/`: `application.json` (the application, its programme version's label and digest, its
form), `binder/application-binder.docx` (附件4's binder), `binder/review-binder.docx` (what the desks decided) and
the verification record as printed, every attachment version under `attachments/`, each
evidence snapshot as `evidence/snapshot-<id>.json` with its hash, the award and payment in `funding.json`, and the
application's audit events in `audit/events.jsonl` with their hashes. A BagIt bag with a SHA-256 manifest, its tag
manifest signed (ARCHIVE_SIGNING_KEY), stored content-addressed in the blob store, which never rewrites a key.

No Flask here: the area's commands and the outbox task call these; they wire the stages together, which no stage
may do itself (review, meters and applications are independent of one another).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from applications import binder
from applications.attachments import attachments_of, open_blob
from applications.programme_words import programme_words
from meters import snapshots
from meters.models import EvidenceSnapshot
from review import record
from review.models import Award, Payment
from storage import bags, signing
from storage.blobs import BlobStore
from storage.models import ArchivePackage
from web.archive import review_binder
from workflow import audit, outbox
from workflow.accounts import SYSTEM
from workflow.db import iso_utc, utcnow
from workflow.definitions import canonical_json
from workflow.errors import NotFound
from workflow.models import AuditEvent, ProgrammeVersion
from workflow.visibility import get_visible, programme_definitions
from workflow.workdays import today_in_shanghai

ARCHIVED = "archived"


def _json(value: Any) -> Iterator[bytes]:
    yield json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str).encode()


def _events(session: Session, application_id: int) -> Iterator[bytes]:
    for event in session.scalars(
        select(AuditEvent).where(AuditEvent.application_id == application_id).order_by(AuditEvent.seq)
    ):
        yield canonical_json({**audit.row_content(event), "hash": event.hash}) + b"\n"


def _binder(session: Session, application_id: int, store: BlobStore) -> Iterator[bytes]:
    with tempfile.TemporaryFile() as spool:
        binder.bind(session, SYSTEM, application_id, store, spool)
        spool.seek(0)
        while chunk := spool.read(1 << 20):
            yield chunk


def _review_binder(session: Session, application_id: int) -> Iterator[bytes]:
    with tempfile.TemporaryFile() as spool:
        review_binder.build(session, application_id, spool)
        spool.seek(0)
        while chunk := spool.read(1 << 20):
            yield chunk


def entries(session: Session, application_id: int, store: BlobStore) -> Iterable[tuple[str, Iterable[bytes]]]:
    """What the package holds, each as (path under data/, chunks); attachments stream from the store."""
    app = get_visible(session, SYSTEM, application_id)
    if app is None:
        raise NotFound(f"application {application_id} not found")
    definition = programme_definitions(session)[app.programme_version_id]
    version = session.get(ProgrammeVersion, app.programme_version_id)
    yield (
        "application.json",
        _json(
            {
                "id": app.id,
                "project_name": app.project_name,
                "organisation": {"uscc": app.organisation.uscc, "name": app.organisation.name},
                "kind": app.kind,
                "state": app.state,
                "version": app.version,
                "programme": definition.label,
                "programme_digest": version.digest if version is not None else None,
                "submitted_at": iso_utc(app.submitted_at),
                "form": app.form,
            }
        ),
    )
    yield "binder/application-binder.docx", _binder(session, application_id, store)
    yield "binder/review-binder.docx", _review_binder(session, application_id)
    if record.conclusion_of(session, application_id) is not None:
        yield "binder/verification-record.docx", [record.archived_document(session, app, definition, store)]
    for row in attachments_of(session, SYSTEM, application_id, all_versions=True):
        name = f"attachments/{row.category}/v{row.version}-{row.sha256[:12]}{Path(row.filename).suffix.lower()}"
        yield name, open_blob(store, row)
    for snapshot in session.scalars(
        select(EvidenceSnapshot).where(EvidenceSnapshot.application_id == application_id).order_by(EvidenceSnapshot.id)
    ):
        yield (
            f"evidence/snapshot-{snapshot.id}.json",
            _json({**snapshots.document(snapshot), "sha256": snapshot.sha256}),
        )
    awards = session.scalars(select(Award).where(Award.application_id == application_id).order_by(Award.id)).all()
    payment = session.scalars(select(Payment).where(Payment.application_id == application_id)).one_or_none()
    yield "funding.json", _json(
        {
            "awards": [
                {"amount": str(a.amount), "computed": str(a.computed), "status": a.status, "reason": a.reason,
                 "basis": a.basis, "proposed_seq": a.proposed_seq, "decided_seq": a.decided_seq}
                for a in awards
            ],
            "payment": None if payment is None else {
                "amount": str(payment.amount), "value_date": payment.value_date.isoformat(),
                "bank_reference": payment.bank_reference, "event_seq": payment.event_seq,
            },
        }
    )  # fmt: skip
    yield "audit/events.jsonl", _events(session, application_id)


def make(
    session: Session,
    application_id: int,
    store: BlobStore,
    signer: signing.Signer,
    made_by: str,
    source_event_seq: int | None = None,
    *,
    retain_until: dt.datetime,
) -> ArchivePackage:
    """Build, sign and store the package; once per archiving event (a redelivered task finds the first)."""
    if source_event_seq is not None:
        done: ArchivePackage | None = outbox.made_for(session, ArchivePackage, application_id, source_event_seq)
        if done is not None:
            return done
    app = get_visible(session, SYSTEM, application_id)
    if app is None:
        raise NotFound(f"application {application_id} not found")
    words = programme_words(programme_definitions(session)[app.programme_version_id])
    info = {
        "Source-Organization": words.authority,  # the body that runs the programme (its data names it)
        "External-Identifier": f"application-{application_id}",
        "Bagging-Date": today_in_shanghai(utcnow()).isoformat(),
    }
    with tempfile.TemporaryDirectory(prefix="archive-") as tmp:
        path = Path(tmp) / "package.zip"
        written = bags.write(entries(session, application_id, store), info, signer, path)
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        sha256 = digest.hexdigest()
        key = f"archives/{sha256[:2]}/{sha256}.zip"  # content-addressed: a key is never written twice
        with path.open("rb") as fh:
            stored = store.put_retained(key, fh, retain_until, "application/zip")
    row = ArchivePackage(
        application_id=application_id,
        source_event_seq=source_event_seq,
        blob_key=stored.key,
        sha256=sha256,
        size=stored.size,
        files=written.files,
        algorithm=signer.algorithm,
        key=signing.fingerprint(signer.public_pem()),
        made_by=made_by[:64],
        retained_until=stored.retained_until,
    )
    session.add(row)
    session.flush()
    payload = {"package": row.id, "sha256": sha256, "files": written.files, "key": row.key}
    audit.note(session, SYSTEM, app, "archive_packed", payload)
    return row
