"""Reading a file that is not an attachment, audited (issue 16: downloads are audited).

An attachment's reading is its own outcome (`attachment_read`: the attachment's id and version). Every other file
served to someone — a checklist photo, the built binder, a document printed from the application (the credit-query
letter with its clear ID number, the application form, the authenticity commitment) — is one `file_read` event,
appended in the same transaction that checked the reader may see it: {file, id, sha256, how}. `id` is the row the
file comes from (the photo, the build, the authoriser), None for a document printed from the application alone;
`sha256` is of the bytes served.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from workflow import audit
from workflow.accounts import Actor

FILE_READ = "file_read"
FILES = (
    "checklist_photo",
    "binder",
    "credit_authorisation",
    "application_form",
    "authenticity_commitment",
)
HOWS = ("download", "view")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def note_read(
    session: Session,
    actor: Actor,
    application: Any,
    file: str,
    *,
    file_id: int | None,
    sha256: str | None,
    how: str = "download",
    request_id: str | None = None,
) -> audit.Appended:
    """Append the `file_read` event of `actor` reading `file` of `application` (the caller has checked they may)."""
    if file not in FILES or how not in HOWS:
        raise ValueError(f"not a file read: {file!r} ({how!r})")
    return audit.note(
        session,
        actor,
        application,
        FILE_READ,
        payload={"file": file, "id": file_id, "sha256": sha256, "how": how},
        request_id=request_id,
    )
