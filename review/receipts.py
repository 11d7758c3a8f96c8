"""The receipt of a submission (申报回执): the application's reference number and the revision received, with the
attachments frozen in it and their sizes, handed to storage.receipt as plain data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from applications.models import Attachment, category_label
from applications.programme_words import programme_words
from review.models import Revision
from storage.receipt import Receipt, ReceivedAttachment, receipt
from workflow.beijing import beijing_time
from workflow.definitions import Definition
from workflow.models import Application

FILENAME = "申报回执.docx"


def latest_revision(session: Session, application_id: int) -> Revision | None:
    return session.scalars(
        select(Revision).where(Revision.application_id == application_id).order_by(Revision.number.desc()).limit(1)
    ).one_or_none()


def receipt_of(session: Session, app: Application, definition: Definition) -> Receipt:
    """What the receipt says of `app` (which the caller has checked the reader may see, and which has a reference):
    the newest revision received, and each attachment in it by its category's Chinese name."""
    if app.reference is None or app.submitted_at is None:
        raise ValueError(f"application {app.id} has not been submitted: it has no receipt")
    revision = latest_revision(session, app.id)
    frozen = list(revision.attachments) if revision is not None else []
    ids = [a["attachment_id"] for a in frozen]
    sizes = dict(session.execute(select(Attachment.id, Attachment.size).where(Attachment.id.in_(ids))).all())
    received = [
        ReceivedAttachment(category_label(a["category"], "zh"), a["filename"], int(sizes.get(a["attachment_id"], 0)))
        for a in frozen
    ]
    later = revision is not None and revision.number > 1
    organisation = app.organisation
    return Receipt(
        reference=app.reference,
        programme=definition.title.get("zh") or definition.code,
        unit_name=organisation.name,
        uscc=organisation.uscc,
        district=app.district or "",
        project=app.project_name,
        submitted_at=beijing_time(app.submitted_at),
        revision=revision.number if revision is not None else None,
        revision_at=beijing_time(revision.created_at) if later and revision is not None else "",
        authority=programme_words(definition).authority,
        attachments=received,
    )


def receipt_docx(session: Session, app: Application, definition: Definition) -> bytes:
    return receipt(receipt_of(session, app, definition))
