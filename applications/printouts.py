"""The Word documents printed from an application, each download audited (issue 16): the credit-query letter
(附件3, with the authoriser's clear ID number), the authenticity commitment (the applicant's two), and the
application form (附件2, for whoever may see the application).

Each is loaded, rendered and audited (`file_reads`, sha256 of the bytes handed out) in one transaction, so a reader
who may not see the application gets NotFound as for none, and a refused or empty read writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from applications import authorisers, file_reads, form_document
from storage.sealed import Sealer
from workflow.accounts import Actor
from workflow.db import db
from workflow.definitions import Definition
from workflow.engine import resolve_actor
from workflow.errors import Forbidden
from workflow.models import Application
from workflow.visibility import programme_definitions, visible_or_not_found


@dataclass(frozen=True)
class Printout:
    """A document to hand out; `data` None when there is nothing to print (no authoriser recorded yet, or a
    programme without 附件2), and then nothing was audited."""

    data: bytes | None
    filename: str
    definition: Definition


def _load(
    session: Session, user: Actor, application_id: int, *, applicant_only: bool
) -> tuple[Application, Definition]:
    definitions = programme_definitions(session)
    app = visible_or_not_found(session, user, application_id, definitions=definitions)
    if applicant_only and user.role != "applicant":
        raise Forbidden("only the applicant prints the applicant's documents")
    return app, definitions[app.programme_version_id]


def _audited(
    session: Session, user: Actor, app: Application, file: str, data: bytes, file_id: int | None, request_id: str | None
) -> bytes:
    file_reads.note_read(
        session, user, app, file, file_id=file_id, sha256=file_reads.sha256_of(data), request_id=request_id
    )
    return data


def credit_letter(actor: Actor | int, application_id: int, sealer: Sealer, request_id: str | None = None) -> Printout:
    """附件3 again from the newest recorded authoriser (the applicant only)."""
    with db.transaction() as session:
        user = resolve_actor(session, actor)
        app, definition = _load(session, user, application_id, applicant_only=True)
        row = authorisers.current(session, app.id)
        if row is None:
            return Printout(None, authorisers.LETTER_FILENAME, definition)
        data = authorisers.letter(app, definition, authorisers.opened(row, sealer))
        data = _audited(session, user, app, "credit_authorisation", data, row.id, request_id)
        return Printout(data, authorisers.LETTER_FILENAME, definition)


def commitment(actor: Actor | int, application_id: int, request_id: str | None = None) -> Printout:
    """申报材料真实性承诺书 filled in from the form (the applicant only)."""
    with db.transaction() as session:
        user = resolve_actor(session, actor)
        app, definition = _load(session, user, application_id, applicant_only=True)
        data = _audited(
            session, user, app, "authenticity_commitment", authorisers.commitment(app, definition), None, request_id
        )
        return Printout(data, authorisers.COMMITMENT_FILENAME, definition)


def application_form(actor: Actor | int, application_id: int, request_id: str | None = None) -> Printout:
    """附件2 项目申请表 and 验收申请报告, for whoever may see the application (data None: the programme has none)."""
    with db.transaction() as session:
        user = resolve_actor(session, actor)
        app, definition = _load(session, user, application_id, applicant_only=False)
        name = form_document.filename(definition) if form_document.has_application_form(definition) else ""
        if not name:
            return Printout(None, name, definition)
        data = _audited(
            session, user, app, "application_form", form_document.application_form(app, definition), None, request_id
        )
        return Printout(data, name, definition)
