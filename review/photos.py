"""Photo evidence on an expert's sheet: typed by content, idempotent by the device's client id, shown to few."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from applications import file_reads
from review.models import ChecklistPhoto, ChecklistSheet
from review.scoring import check_open, open_sheet
from review.seats import member_of
from storage.blobs import BlobStore
from storage.multipart import blob_key
from storage.sniff import JPEG, PNG, Kind, sniff
from workflow import audit
from workflow.accounts import Actor
from workflow.db import as_utc, db
from workflow.engine import resolve_actor
from workflow.errors import InvalidInput, NotFound, Problem
from workflow.visibility import get_visible

PHOTO_MAX_BYTES = 20 * 1024 * 1024


def _image_kind(data: BinaryIO, allowed: tuple[Kind, ...], field_name: str) -> Kind:
    kind = sniff(data)
    if kind not in allowed:
        names = " or ".join(k.en for k in allowed)
        raise InvalidInput(
            f"{field_name} must be {names}, not {kind.en}",
            [Problem(field_name, "type_not_allowed", f"{field_name} must be {names}; this file is {kind.en}")],
        )
    return kind


def add_photo(*args: Any, **kwargs: Any) -> ChecklistPhoto:
    """Keep a photo as evidence for one criterion (keep_photo's arguments); a repeated client_id returns it again."""
    return keep_photo(*args, **kwargs)[0]


def keep_photo(
    actor: Actor | int,
    application_id: int,
    criterion: str,
    data: bytes,
    store: BlobStore,
    *,
    client_id: str,
    taken_at: dt.datetime | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    accuracy_m: float | None = None,
    request_id: str | None = None,
) -> tuple[ChecklistPhoto, bool]:
    """add_photo, and whether this call kept it (False: a repeat of a client_id already kept)."""
    problems = []
    if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > 64:
        problems.append(
            Problem("client_id", "required", "client_id (up to 64 characters) names the photo on the device")
        )
    if len(data) > PHOTO_MAX_BYTES:
        problems.append(Problem("photo", "too_large", f"the photo is {len(data)} bytes; at most {PHOTO_MAX_BYTES}"))
    if latitude is not None and not -90 <= latitude <= 90:
        problems.append(Problem("latitude", "out_of_range", f"latitude {latitude} is not between -90 and 90"))
    if longitude is not None and not -180 <= longitude <= 180:
        problems.append(Problem("longitude", "out_of_range", f"longitude {longitude} is not between -180 and 180"))
    if (latitude is None) != (longitude is None):
        problems.append(Problem("longitude", "incomplete", "a location needs both latitude and longitude"))
    if accuracy_m is not None and not (math.isfinite(accuracy_m) and accuracy_m >= 0):
        problems.append(Problem("accuracy_m", "out_of_range", f"accuracy_m {accuracy_m} is not a distance in metres"))
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)
    kind = _image_kind(io.BytesIO(data), (JPEG, PNG), "photo")
    sha = hashlib.sha256(data).hexdigest()
    with db.transaction() as session:
        who = resolve_actor(session, actor)
        ctx = open_sheet(session, who, application_id, lock=True)
        found = session.scalars(
            select(ChecklistPhoto).where(ChecklistPhoto.sheet_id == ctx.sheet.id, ChecklistPhoto.client_id == client_id)
        ).one_or_none()
        if found is not None:
            if (found.sha256, found.criterion) != (sha, criterion):
                # Another photo under a name already used: keeping either silently would lose one.
                message = f"client_id '{client_id}' already names another photo (of criterion {found.criterion})"
                raise InvalidInput(message, [Problem("client_id", "client_id_reused", message)])
            return found, False  # a retried upload from a tablet that lost the answer
        check_open(session, ctx)
        known = ctx.checklist.by_id.get(criterion)
        if known is None or not known.applies(ctx.application.kind):
            raise InvalidInput(
                f"'{criterion}' is not a criterion here",
                [Problem("criterion", "unknown_criterion", f"'{criterion}' is not a criterion of {ctx.checklist.ref}")],
            )
        key = blob_key(sha)
        if not store.exists(key):
            store.put(key, io.BytesIO(data), kind.content_type)
        photo = ChecklistPhoto(
            sheet_id=ctx.sheet.id,
            criterion=criterion,
            client_id=client_id,
            blob_key=key,
            sha256=sha,
            content_type=kind.content_type,
            size=len(data),
            taken_at=as_utc(taken_at) if taken_at else None,
            latitude=latitude,
            longitude=longitude,
            accuracy_m=accuracy_m,
        )
        session.add(photo)
        session.flush()
        audit.note(
            session,
            who,
            ctx.application,
            "photo_added",
            payload={
                "criterion": criterion,
                "sha256": sha,
                "taken_at": photo.taken_at.isoformat() if photo.taken_at else None,
                "located": latitude is not None,
            },
            request_id=request_id,
        )
        return photo, True


# Who may fetch a checklist photo, beside the panel's experts: those who commission, check and oversee the
# verification. Applicants, district reviewers and finance see the consensus but not the site photos.
PHOTO_READERS = frozenset({"municipal_reviewer", "agency_coordinator", "admin", "auditor"})


def photo_for_download(session: Session, actor: Actor, photo_id: int) -> ChecklistPhoto:
    """A photo, if `actor` may see its application and is one of its readers; else 404, as if it did not exist.

    An expert on the panel sees their own photos, and the other experts' once their own sheet is submitted
    (as with the results: no one is swayed).
    """
    photo = session.get(ChecklistPhoto, photo_id)
    sheet = session.get(ChecklistSheet, photo.sheet_id) if photo is not None else None
    app = get_visible(session, actor, sheet.application_id) if sheet is not None else None
    if photo is None or sheet is None or app is None or not _may_see_photo(session, actor, sheet):
        raise NotFound(f"photo {photo_id} not found")
    return photo


def opened(
    actor: Actor | int, photo_id: int, how: str, request_id: str | None = None, *, sheet_id: int | None = None
) -> ChecklistPhoto:
    """The photo `actor` may read (photo_for_download), its reading audited (`how`: download or view); else
    NotFound as for none, and nothing is written. With `sheet_id`, only a photo on that sheet (the expert's page)."""
    with db.transaction() as session:
        user = resolve_actor(session, actor)
        photo = photo_for_download(session, user, photo_id)
        if sheet_id is not None and photo.sheet_id != sheet_id:
            raise NotFound(f"photo {photo_id} not found")
        sheet = session.get(ChecklistSheet, photo.sheet_id)
        app = get_visible(session, user, sheet.application_id) if sheet is not None else None
        if app is None:
            raise NotFound(f"photo {photo_id} not found")
        file_reads.note_read(
            session, user, app, "checklist_photo", file_id=photo.id, sha256=photo.sha256, how=how, request_id=request_id
        )
        return photo


def _may_see_photo(session: Session, actor: Actor, sheet: ChecklistSheet) -> bool:
    if actor.role in PHOTO_READERS:
        return True
    if actor.role != "expert" or member_of(session, sheet.application_id, actor.id) is None:
        return False
    if sheet.expert_id == actor.id:
        return True
    mine = session.scalar(
        select(ChecklistSheet.submitted_at).where(
            ChecklistSheet.application_id == sheet.application_id, ChecklistSheet.expert_id == actor.id
        )
    )
    return mine is not None
