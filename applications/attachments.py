"""The applicant's attachments: who may upload when, versions, the audit, listing, download, and the required set.

An upload never sits in memory whole: the multipart body is read in chunks into the blob store's staging file
while it is hashed and counted, and refused the moment it passes the size limit. Then the file is typed from
its bytes, handed to the store under ``sha256/<first2>/<sha256>`` (the local folder renames it into place, so
the bytes are written once), and only then is the row inserted — with its audit event, in one transaction. A
request that dies at any point before that commit leaves no row; at worst a blob no row names, which is harmless
(the same bytes would get the same key), or, if the process is killed mid-body, a staged `.part-` file no key names.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from applications.models import CATEGORIES, Attachment, category_label
from storage import contents
from storage.blobs import BlobStore
from storage.multipart import Received, blob_key, clean_filename, receive
from storage.sniff import Kind, refusal, sniff
from workflow import audit
from workflow.accounts import Actor, User
from workflow.db import db, utcnow
from workflow.definitions import Definition
from workflow.engine import allowed_triggers, record_denial, resolve_actor
from workflow.errors import Forbidden, InvalidInput, NotAllowedNow, NotFound, Problem, WorkflowError
from workflow.models import Application
from workflow.visibility import get_visible, programme_definitions, visible_or_not_found


def supplement_states(definition: Definition) -> tuple[str, ...]:
    """Where the applicant answers an open supplement request: the sources of a transition that needs `answers`."""
    return tuple(dict.fromkeys(s for t in definition.transitions if "answers" in t.requires for s in t.sources))


def upload_states(definition: Definition) -> tuple[str, ...]:
    """Where the applicant may add material: the editable states and, besides them, an open supplement request."""
    return (*definition.editable, *(s for s in supplement_states(definition) if s not in definition.editable))


# --- who may do what ------------------------------------------------------------------------------------------


def _may_attach(session: Session, actor: Actor, application_id: int, lock: bool) -> tuple[Application, Definition]:
    definitions = programme_definitions(session)
    app = visible_or_not_found(session, actor, application_id, lock=lock, definitions=definitions)
    definition = definitions[app.programme_version_id]
    if actor.role != "applicant":
        raise Forbidden("only the applicant uploads attachments")
    if app.state not in upload_states(definition):
        states = " or ".join(upload_states(definition))
        raise NotAllowedNow(
            f"attachments can be uploaded only in state {states}; the application is in '{app.state}'",
            app.state,
            allowed_triggers(session, app, actor, definition),
        )
    return app, definition


def _check_fields(received: Received, lang: str) -> Kind:
    problems = [
        Problem(name, "unknown_field", f"'{name}' is not a field here; send 'file' and 'category'")
        for name in received.unexpected
    ]
    category = received.fields.get("category", "")
    if not category:
        problems.append(Problem("category", "required", "'category' is required"))
    elif category not in CATEGORIES:
        problems.append(Problem("category", "unknown", f"category must be one of {', '.join(CATEGORIES)}"))
    kind = None
    if received.file is None or (received.size == 0 and not received.filename):  # a form's empty file input
        problems.append(Problem("file", "required", "send the document as the multipart file part 'file'"))
    else:
        kind = sniff(received.file)
        name = contents.shown_name(received.filename)
        if not kind.allowed:
            shown = f"“{name}”：" if lang == "zh" else f"“{name}”: "
            problems.append(Problem("file", "type_not_allowed", shown + refusal(kind, lang)))
        else:
            try:  # the rules for what is inside: polyglots, formulas, archives (storage.contents)
                contents.check(received.file, kind)
            except contents.Refused as refused:
                problems.append(Problem("file", refused.code, refused.message(name, lang)))
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)
    assert kind is not None
    return kind


def upload(
    actor: Actor | int,
    application_id: int,
    stream: IO[bytes],
    boundary: bytes,
    store: BlobStore,
    *,
    max_bytes: int,
    tmp_dir: str | Path | None = None,
    request_id: str | None = None,
    lang: str = "zh",
    extra_fields: Collection[str] = (),
    verify: Callable[[dict[str, str]], None] | None = None,
) -> Attachment:
    """Receive, type, store and register one upload; a refusal is raised (and audited as denied).

    `verify` sees the small fields once the body is in, before anything is stored (a page checks its CSRF token).
    """
    details: dict[str, Any] = {}
    try:
        with db.transaction() as session:  # refuse before reading a byte of a body that cannot be kept
            _may_attach(session, resolve_actor(session, actor), application_id, lock=False)
        with receive(stream, boundary, max_bytes, tmp_dir, extra_fields=extra_fields, store=store) as received:
            if verify is not None:
                verify(received.fields)
            details = {"category": received.fields.get("category"), "filename": received.filename}
            kind = _check_fields(received, lang)
            details.update(size=received.size, sha256=received.sha256, content_type=kind.content_type)
            assert received.staged is not None
            key = blob_key(received.sha256)
            if store.exists(key):  # content-addressed: equal bytes are stored once
                received.staged.discard()
            else:  # the store adopts the staged file (or frees it, if that fails)
                stored = store.put_file(key, received.staged, received.size, received.sha256, kind.content_type)
                if stored.sha256 != received.sha256 or stored.size != received.size:
                    raise RuntimeError(f"blob {key} was stored as {stored.size} bytes with sha256 {stored.sha256}")
            return _register(actor, application_id, received, kind, key, request_id)
    except WorkflowError as exc:
        record_denial(actor, application_id, "attach", exc, details, request_id)
        raise


def _register(
    actor: Actor | int, application_id: int, received: Received, kind: Kind, key: str, request_id: str | None
) -> Attachment:
    """The row and its audit event, in one transaction; the previous version of the category is superseded.

    The same bytes as the current version are not a new version: that row comes back, marked `unchanged`.
    """
    category = received.fields["category"]
    with db.transaction() as session:
        user = resolve_actor(session, actor)
        # Locked: the application may have moved on while the bytes arrived; and versions are numbered in turn.
        app, definition = _may_attach(session, user, application_id, lock=True)
        previous = session.scalars(
            select(Attachment)
            .where(Attachment.application_id == app.id, Attachment.category == category)
            .order_by(Attachment.version.desc())
            .limit(1)
        ).one_or_none()
        if previous is not None and previous.superseded_at is None and previous.sha256 == received.sha256:
            previous.unchanged = True  # the same bytes again: still the current version, no new one
            _ = previous.uploaded_by  # loaded now: the caller reads it after the session is gone
            return previous
        now = utcnow()
        if previous is not None and previous.superseded_at is None:
            previous.superseded_at = now
        row = Attachment(
            application_id=app.id,
            category=category,
            filename=clean_filename(received.filename, kind),
            content_type=kind.content_type,
            size=received.size,
            sha256=received.sha256,
            blob_key=key,
            version=previous.version + 1 if previous else 1,
            uploaded_by=session.get(User, user.id),
            uploaded_at=now,
        )
        session.add(row)
        session.flush()
        audit.note(
            session,
            user,
            app,
            "attached",
            payload={
                "attachment_id": row.id,
                "category": category,
                "filename": row.filename,
                "content_type": row.content_type,
                "sha256": row.sha256,
                "size": row.size,
                "version": row.version,
            },
            definition=definition.label,
            request_id=request_id,
        )
        return row


# --- reading --------------------------------------------------------------------------------------------------

_ORDER = {category: i for i, category in enumerate(CATEGORIES)}


def attachments_of(session: Session, actor: Actor, application_id: int, all_versions: bool = False) -> list[Attachment]:
    """The application's attachments (current versions, or every version), if `actor` may see the application."""
    if get_visible(session, actor, application_id) is None:
        raise NotFound(f"application {application_id} not found")
    query = (
        select(Attachment)
        .options(joinedload(Attachment.uploaded_by))
        .where(Attachment.application_id == application_id)
        .order_by(Attachment.version.desc(), Attachment.id.desc())
    )
    if not all_versions:
        query = query.where(Attachment.superseded_at.is_(None))
    rows = session.scalars(query).all()
    return sorted(rows, key=lambda a: _ORDER.get(a.category, len(_ORDER)))


def _visible_attachment(session: Session, actor: Actor, attachment_id: int) -> tuple[Attachment, Application]:
    """One attachment with its application, only for someone who may see it; otherwise NotFound as for none."""
    row = session.get(Attachment, attachment_id)
    app = get_visible(session, actor, row.application_id) if row is not None else None
    if row is None or app is None:
        raise NotFound(f"attachment {attachment_id} not found")
    return row, app


def for_download(session: Session, actor: Actor, attachment_id: int) -> Attachment:
    """One attachment, only for someone who may see its application; otherwise exactly as if it did not exist."""
    return _visible_attachment(session, actor, attachment_id)[0]


def opened(actor: Actor | int, attachment_id: int, how: str, request_id: str | None = None) -> Attachment:
    """The attachment `actor` may read, its reading audited (`how`: download or view); else NotFound as for none."""
    with db.transaction() as session:
        user = resolve_actor(session, actor)
        row, app = _visible_attachment(session, user, attachment_id)
        audit.note(
            session,
            user,
            app,
            "attachment_read",
            payload={"attachment_id": row.id, "how": how, "sha256": row.sha256, "version": row.version},
            request_id=request_id,
        )
        return row


def open_blob(store: BlobStore, row: Attachment) -> Iterator[bytes]:
    """The stored bytes in chunks; the first chunk is fetched now, so a missing blob fails before any header."""
    chunks = store.open(row.blob_key)
    first = next(chunks, b"")

    def stream() -> Iterator[bytes]:
        try:
            yield first
            yield from chunks
        finally:
            with suppress(Exception):
                chunks.close()  # type: ignore[attr-defined]

    return stream()


# --- what a submission needs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentRules:
    """The documents a programme version requires: its `[attachments]` table, or the fallback for older versions."""

    required: tuple[str, ...]
    by_kind: dict[str, tuple[str, ...]]
    special_audit_from_wan: Decimal | None  # the special audit report from this total investment (万元), inclusive
    # Versions before the table (v1): a data centre declares its platform connection by a tick on the form, which
    # the completeness checklist shows beside the documents; from @2 a document proves it (dc_platform_confirmation).
    platform_declared_on_form: bool = False

    def for_kind(self, kind: str) -> tuple[str, ...]:
        return (*self.required, *self.by_kind.get(kind, ()))


# The one fallback, for definitions published without an `[attachments]` table (v1, applications in flight).
_EMC_V1 = AttachmentRules(
    required=(
        "business_licence",
        "equipment_list",
        "construction_contract",
        "completion_report",
        "investment_proof",
        "authenticity_commitment",
        "credit_authorisation",
    ),
    by_kind={},
    special_audit_from_wan=Decimal("100"),
    platform_declared_on_form=True,
)
_MONITORING_V1 = AttachmentRules(("business_licence", "investment_proof", "authenticity_commitment"), {}, None)
FALLBACK: dict[str, AttachmentRules] = {"emc-acceptance": _EMC_V1, "monitoring-fund": _MONITORING_V1}
NO_RULES = AttachmentRules((), {}, None)

_rules_cache: dict[str, AttachmentRules] = {}


class AttachmentRulesError(ValueError):
    """A programme's `[attachments]` table that cannot be used, with every problem found."""


def rules_for(definition: Definition) -> AttachmentRules:
    """The definition's attachment rules (parsed once per digest: a published version never changes)."""
    found = _rules_cache.get(definition.digest)
    if found is None:
        found = parse_rules(definition.raw.get("attachments"), definition.code, definition.label)
        _rules_cache[definition.digest] = found
    return found


def parse_rules(spec: Any, code: str, source: str = "") -> AttachmentRules:
    """`[attachments] required = [...]`, `by_kind = {kind = [...]}`, `special_audit_from_wan = 100`."""
    if spec is None:
        return FALLBACK.get(code, NO_RULES)
    problems: list[str] = []
    if not isinstance(spec, dict):
        raise AttachmentRulesError(f"{source}: [attachments] must be a table")

    def categories(value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{where} must be a list of categories")
            return ()
        problems.extend(f"{where}: unknown category '{v}'" for v in value if v not in CATEGORIES)
        return tuple(value)

    required = categories(spec.get("required", []), "attachments.required")
    raw_by_kind = spec.get("by_kind", {})
    by_kind = {}
    if isinstance(raw_by_kind, dict):
        by_kind = {str(k): categories(v, f"attachments.by_kind.{k}") for k, v in raw_by_kind.items()}
    else:
        problems.append("attachments.by_kind must map applicant kinds to lists of categories")
    threshold = None
    raw_threshold = spec.get("special_audit_from_wan")
    if raw_threshold is not None:
        threshold = _wan(raw_threshold)
        if threshold is None or threshold < 0:
            problems.append(f"attachments.special_audit_from_wan: '{raw_threshold}' is not an amount in 万元")
            threshold = None
    if problems:
        raise AttachmentRulesError(f"{source}: " + "; ".join(problems))
    return AttachmentRules(required, by_kind, threshold)


def _wan(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def special_audit_required(rules: AttachmentRules, form: dict[str, Any]) -> bool:
    """Seed 002 附件2 item 5: the special audit report for a total investment from the programme's threshold."""
    if rules.special_audit_from_wan is None:
        return False
    total = _wan(form.get("total_investment_wan"))
    return total is not None and total >= rules.special_audit_from_wan


def required_categories(definition: Definition, kind: str, form: dict[str, Any]) -> list[str]:
    """The categories a submission of this programme version and applicant kind must carry, given the form."""
    rules = rules_for(definition)
    required = list(rules.for_kind(kind))
    if special_audit_required(rules, form):
        at = required.index("investment_proof") + 1 if "investment_proof" in required else len(required)
        required.insert(at, "special_audit_report")
    return required


def missing_categories(session: Session, application: Application, definition: Definition) -> list[str]:
    present = set(
        session.scalars(
            select(Attachment.category).where(
                Attachment.application_id == application.id, Attachment.superseded_at.is_(None)
            )
        )
    )
    required = required_categories(definition, application.kind, application.form)
    return [category for category in required if category not in present]


def missing_message(category: str, form: dict[str, Any], definition: Definition) -> str:
    label = category_label(category, "zh")
    threshold = rules_for(definition).special_audit_from_wan
    if category == "special_audit_report" and threshold is not None:
        total = form.get("total_investment_wan")
        return f"项目总投资 {total} 万元，达到 {threshold} 万元，须上传{label}"
    return f"缺少必需附件：{label}"


__all__ = [
    "AttachmentRules",
    "attachments_of",
    "for_download",
    "missing_categories",
    "open_blob",
    "opened",
    "required_categories",
    "rules_for",
    "supplement_states",
    "upload",
    "upload_states",
]
