"""The credit-query authoriser of an application (附件3): recorded with the ID number sealed, read back for the letter;
and the two documents the applicant prints (the letter, the authenticity commitment) filled in from the application.

The clear ID number lives only in the request that brings it and in the letter built from it: the row keeps it
sealed (storage.sealed) beside a masked copy for screens, and the audit event names the masked copy only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from applications.attachments import upload_states
from applications.models import AUTHORISER_ROLES, CreditAuthoriser
from applications.programme_words import programme_words
from forms import idcard
from storage import documents
from storage.sealed import Sealer, SealError
from workflow import audit
from workflow.accounts import Actor, User
from workflow.db import db, utcnow
from workflow.definitions import Definition
from workflow.engine import allowed_triggers, resolve_actor
from workflow.errors import Forbidden, InvalidInput, NotAllowedNow, Problem
from workflow.models import Application
from workflow.visibility import programme_definitions, visible_or_not_found

MAX_NAME = 100  # the column's width


@dataclass(frozen=True)
class Authoriser:
    """A stored authoriser with the ID number opened: for the letter only, never for a screen or a log."""

    person_name: str
    role: str
    id_card: str

    def __repr__(self) -> str:
        return f"Authoriser({self.person_name!r}, {self.role!r}, {idcard.masked(self.id_card)!r})"


def problems(person_name: str, id_card: str, role: str) -> list[Problem]:
    """What is wrong with the three values, each under its field (empty when they may be recorded)."""
    found = []
    name = person_name.strip()
    if not name:
        found.append(Problem("person_name", "required", "person_name is required"))
    elif len(name) > MAX_NAME:
        found.append(Problem("person_name", "too_long", f"person_name has at most {MAX_NAME} characters"))
    why = idcard.problem(id_card)
    if why:
        found.append(Problem("id_card", "invalid_id_card", why))
    if role not in AUTHORISER_ROLES:
        found.append(Problem("role", "not_allowed", f"role must be one of {'、'.join(AUTHORISER_ROLES)}"))
    return found


def may_record(app: Application, definition: Definition) -> bool:
    """Whether the authoriser can be recorded now: while attachments can be uploaded."""
    return app.state in upload_states(definition)


def record(
    actor: Actor | int,
    application_id: int,
    *,
    person_name: str,
    id_card: str,
    role: str,
    sealer: Sealer,
    request_id: str | None = None,
) -> tuple[CreditAuthoriser, bytes]:
    """Record who authorises the credit query (a new row; the previous one is kept) and audit it, masked; the
    letter (附件3) comes back with it.

    The applicant only, while attachments can be uploaded: the letter exists to be signed and uploaded, and
    what reviewers read beside the uploaded scan must not change under them. The letter is rendered before the
    commit: a value no document can hold leaves neither the row nor its audit event behind.
    """
    with db.transaction() as session:
        user = resolve_actor(session, actor)
        definitions = programme_definitions(session)
        app = visible_or_not_found(session, user, application_id, lock=True, definitions=definitions)
        definition = definitions[app.programme_version_id]
        if user.role != "applicant":
            raise Forbidden("only the applicant records who authorises the credit query")
        if not may_record(app, definition):
            states = " or ".join(upload_states(definition))
            raise NotAllowedNow(
                f"the credit authoriser can be recorded only in state {states}; the application is in '{app.state}'",
                app.state,
                allowed_triggers(session, app, user, definition),
            )
        found = problems(person_name, id_card, role)
        if found:
            raise InvalidInput("; ".join(p.message for p in found), found)
        number = id_card.strip().upper()
        row = CreditAuthoriser(
            application_id=app.id,
            person_name=person_name.strip(),
            role=role,
            id_card_sealed=sealer.seal(number),
            id_card_masked=idcard.masked(number),
            created_by=session.get(User, user.id),
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        audit.note(
            session,
            user,
            app,
            "authoriser_set",  # audit_events.outcome holds 16 characters
            payload={
                "authoriser_id": row.id,
                "person_name": row.person_name,
                "role": row.role,
                "id_card_masked": row.id_card_masked,
            },
            definition=definition.label,
            request_id=request_id,
        )
        return row, letter(app, definition, Authoriser(row.person_name, row.role, number))


def current(session: Session, application_id: int) -> CreditAuthoriser | None:
    """The newest authoriser of the application, or None (the caller has checked visibility)."""
    return session.scalars(
        select(CreditAuthoriser)
        .where(CreditAuthoriser.application_id == application_id)
        .order_by(CreditAuthoriser.id.desc())
        .limit(1)
    ).one_or_none()


def opened(row: CreditAuthoriser, sealer: Sealer) -> Authoriser:
    return Authoriser(row.person_name, row.role, sealer.open(row.id_card_sealed))


def reseal_all(session: Session, sealer: Sealer) -> int:
    """Seal every stored ID number again with the first key; how many rows. One row no key opens stops it all."""
    count = 0
    for row in session.scalars(select(CreditAuthoriser).order_by(CreditAuthoriser.id)):
        try:
            row.id_card_sealed = sealer.reseal(row.id_card_sealed)
        except SealError:
            raise SealError(f"credit authoriser {row.id}: no configured key opens its ID number") from None
        count += 1
    return count


# --- the documents ----------------------------------------------------------------------------------------------

LETTER_FILENAME = "关于查询上海市公共信用信息的委托授权书.docx"
COMMITMENT_FILENAME = "申报材料真实性承诺书.docx"


def _unit_name(app: Application) -> str:
    return (app.form or {}).get("unit_name") or app.organisation.name


def letter(app: Application, definition: Definition, who: Authoriser) -> bytes:
    """附件3 as .docx, with the clear ID number (the one place it appears)."""
    return documents.credit_authorisation(
        documents.CreditAuthorisation(
            person_name=who.person_name,
            id_card=who.id_card,
            role=who.role,
            unit=_unit_name(app),
            project=app.project_name,
            programme=programme_words(definition),
        )
    )


def commitment(app: Application, definition: Definition) -> bytes:
    """申报材料真实性承诺书 as .docx, filled in from the form."""
    return documents.authenticity_commitment(
        documents.AuthenticityCommitment(
            unit_name=_unit_name(app),
            uscc=(app.form or {}).get("uscc") or app.organisation.uscc,
            project=app.project_name,
            programme=programme_words(definition),
        )
    )
