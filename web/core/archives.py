"""Archive packages as the whole shell reads them: the signing key from the configuration, the latest package of an
application, and the offline check (`archive verify`, the demo). Building them is the archive area's."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import bags, signing
from storage.blobs import BlobStore
from storage.models import ArchivePackage
from workflow import audit
from workflow.db import as_utc


def signer(app: Flask) -> signing.Signer:
    found = app.extensions.get("archive_signer")
    if found is None:
        algorithm = app.config["ARCHIVE_SIGNING_ALGORITHM"]
        found = app.extensions["archive_signer"] = signing.signer(algorithm, app.config["ARCHIVE_SIGNING_KEY"])
    return found


def public_pem(app: Flask) -> bytes:
    return signer(app).public_pem()


def retain_until(app: Flask, now: dt.datetime) -> dt.datetime:
    """A package made `now` is held write-once for ARCHIVE_RETENTION_YEARS (365.25-day years, to the second)."""
    years = app.config["ARCHIVE_RETENTION_YEARS"]
    return (now + dt.timedelta(days=round(365.25 * years))).replace(microsecond=0)


def retention_problems(store: BlobStore, row: ArchivePackage) -> list[str]:
    """What the backend no longer promises that the package's row says it did."""
    if row.retained_until is None:
        return []
    held, promised = store.retained_until(row.blob_key), as_utc(row.retained_until)
    if held is None or as_utc(held) < promised:
        return [f"{row.blob_key}: stored write-once until {row.retained_until:%Y-%m-%d}, the store now says {held}"]
    return []


def latest(session: Session, application_id: int) -> ArchivePackage | None:
    return session.scalars(
        select(ArchivePackage)
        .where(ArchivePackage.application_id == application_id)
        .order_by(ArchivePackage.id.desc())
        .limit(1)
    ).one_or_none()


@dataclass(frozen=True)
class Verdict:
    package: Path
    problems: list[str]
    events: int

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_file(package: Path, public_pem: bytes | None, application_id: int | None = None) -> Verdict:
    """Offline: every hash, the signature, and the application's audit events — each event's keyed hash (with the
    audit key configured), in order. The chain's links run through other applications' events: `audit verify` on
    the database checks them; the package's signature binds the events it holds."""
    problems = bags.verify(package, public_pem)
    count = 0
    try:
        lines = bags.read(package, "audit/events.jsonl").decode().splitlines()
    except KeyError:
        return Verdict(package, [*problems, "audit/events.jsonl is missing"], 0)
    versions = []
    for line in lines:
        event = json.loads(line)
        count += 1
        if application_id is not None and event.get("application_id") != application_id:
            problems.append(f"event {event.get('seq')} is of application {event.get('application_id')}")
        try:
            expected = audit.hash_of(event)
        except audit.AuditKeyError as exc:
            problems.append(f"event {event.get('seq')}: {exc}")
            continue
        if expected != event.get("hash"):
            problems.append(f"event {event.get('seq')} does not match its hash (edited?)")
        if event.get("app_version") is not None:
            versions.append((event["app_version"], event.get("seq")))
    back = [seq for (a, _), (b, seq) in itertools.pairwise(versions) if b < a]
    if back:
        problems.append(f"event {back[0]} takes the application's version back: the events are out of order")
    return Verdict(package, problems, count)


def fetch(store: BlobStore, row: ArchivePackage, into: Path) -> Path:
    """The stored package as a file (verification reads it as a whole zip)."""
    target = into / f"application-{row.application_id}-{row.id}.zip"
    with target.open("wb") as fh:
        for chunk in store.open(row.blob_key):
            fh.write(chunk)
    return target
