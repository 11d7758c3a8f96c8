"""Attachments: upload (streamed, typed by content, content-addressed), list, download, and the required set.

An upload never sits in memory whole: the multipart body is read in chunks into the blob store's staging file
while it is hashed and counted, and refused the moment it passes the size limit. Then the file is typed from
its bytes, handed to the store under ``sha256/<first2>/<sha256>`` (the local folder renames it into place, so
the bytes are written once), and only then is the row inserted — with its audit event, in one transaction. A
request that dies at any point before that commit leaves no row; at worst a blob no row names, which is harmless
(the same bytes would get the same key), or, if the process is killed mid-body, a staged `.part-` file no key names.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import unicodedata
from collections.abc import Callable, Collection, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, BinaryIO
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from storage.blobs import BlobStore, Staged
from storage.models import CATEGORIES, Attachment, category_label
from storage.sniff import Kind, refusal, sniff
from workflow import audit
from workflow.accounts import Actor, User
from workflow.db import db, utcnow
from workflow.definitions import Definition
from workflow.engine import allowed_triggers, record_denial, resolve_actor
from workflow.errors import Forbidden, InvalidInput, NotAllowedNow, NotFound, Problem, WorkflowError
from workflow.models import Application
from workflow.visibility import get_visible, programme_definitions, visible_or_not_found

CHUNK = 256 * 1024
MAX_FIELD = 1024  # `category` is a short key; nothing else is accepted
MAX_PARTS = 8
MAX_FILENAME = 200
# Besides the editable states, the applicant uploads while a supplement request is open.
SUPPLEMENT_STATE = "supplement_requested"


class UploadTooLarge(WorkflowError):
    status = 413
    code = "too_large"
    title = "File too large"

    def __init__(self, max_bytes: int):
        message = f"the file is larger than the upload limit of {max_bytes} bytes ({max_bytes / 2**20:.0f} MB)"
        super().__init__(message, max_bytes=max_bytes, errors=[Problem("file", "too_large", message).as_dict()])


def _malformed(why: str) -> InvalidInput:
    message = f"the multipart body is malformed or incomplete: {why}"
    return InvalidInput(message, [Problem("file", "malformed", message)])


# --- receiving the body ---------------------------------------------------------------------------------------


@dataclass
class Received:
    """The parsed multipart body: small fields in memory, the one file in a staged temporary file."""

    fields: dict[str, str] = field(default_factory=dict)
    staged: Staged | None = None
    filename: str | None = None
    size: int = 0
    sha256: str = ""
    unexpected: list[str] = field(default_factory=list)

    @property
    def file(self) -> BinaryIO | None:
        return self.staged.file if self.staged is not None else None

    def close(self) -> None:
        if self.staged is not None:
            self.staged.discard()  # unless the store adopted it: a refused or failed upload leaves no file

    def __enter__(self) -> Received:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _Sink:
    """Writes the file part to disk, hashing and counting; refuses the byte that passes the limit."""

    def __init__(self, out: BinaryIO, max_bytes: int):
        self.out, self.max_bytes, self.size, self.digest = out, max_bytes, 0, hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise UploadTooLarge(self.max_bytes)
        self.digest.update(data)
        self.out.write(data)


def receive(
    stream: IO[bytes],
    boundary: bytes,
    max_bytes: int,
    tmp_dir: str | Path | None = None,
    chunk: int = CHUNK,
    extra_fields: Collection[str] = (),
    store: BlobStore | None = None,
) -> Received:
    """Parse multipart/form-data from `stream` chunk by chunk; the part named `file` goes to a temporary file.

    The file is `store`'s staging file, so the store can adopt it without a copy; with no store, an anonymous
    temporary file in `tmp_dir`. Besides `category`, only the small fields named in `extra_fields` are kept (a page
    form's CSRF token).
    """
    kept = {"category", *extra_fields}
    # Preamble and part headers are buffered until complete: bound them so no one streams 200 MB of "headers".
    decoder = MultipartDecoder(boundary, max_form_memory_size=chunk + 64 * 1024)
    received = Received()
    sink: _Sink | None = None
    part: Field | File | None = None
    value = bytearray()
    parts = 0
    try:
        while True:
            data = stream.read(chunk)
            try:
                decoder.receive_data(data or None)
            except RequestEntityTooLarge:  # the decoder's bound, not the request's
                raise _malformed("a part's headers (or the preamble) are too long") from None
            event = decoder.next_event()
            while not isinstance(event, NeedData | Epilogue):
                if isinstance(event, File | Field):
                    parts += 1
                    if parts > MAX_PARTS:
                        raise _malformed(f"more than {MAX_PARTS} parts")
                    part, value = event, bytearray()
                    if isinstance(event, File):
                        if event.name != "file" or received.file is not None:
                            raise InvalidInput(
                                "send exactly one file, in the part named 'file'",
                                [Problem(event.name or "file", "unexpected_file", "send one file, as 'file'")],
                            )
                        received.staged = _staging(store, tmp_dir)
                        received.filename = event.filename
                        sink = _Sink(received.staged.file, max_bytes)
                elif isinstance(event, Data):
                    if isinstance(part, File):
                        assert sink is not None
                        sink.write(event.data)
                    elif isinstance(part, Field):
                        value.extend(event.data)
                        if len(value) > MAX_FIELD:
                            message = f"'{part.name}' is longer than {MAX_FIELD} bytes"
                            raise InvalidInput(message, [Problem(part.name, "too_long", message)])
                        if not event.more_data:
                            if part.name in kept:
                                received.fields[part.name] = value.decode("utf-8", "replace").strip()
                            elif part.name != "file":  # a plain field 'file' is answered as a missing file
                                received.unexpected.append(part.name)
                event = decoder.next_event()
            if isinstance(event, Epilogue):
                break
            if not data:
                raise _malformed("the body ended before the closing boundary")
    except ValueError as exc:  # the decoder's complaint about the framing
        received.close()
        raise _malformed(str(exc)) from None
    except BaseException:
        received.close()
        raise
    if sink is not None and received.file is not None:
        received.file.flush()
        received.size, received.sha256 = sink.size, sink.digest.hexdigest()
    return received


def _staging(store: BlobStore | None, tmp_dir: str | Path | None) -> Staged:
    if store is not None:
        return store.staging(tmp_dir)
    return Staged(tempfile.TemporaryFile(dir=tmp_dir))


# --- names ----------------------------------------------------------------------------------------------------


def blob_key(sha256: str) -> str:
    return f"sha256/{sha256[:2]}/{sha256}"


def clean_filename(raw: str | None, kind: Kind) -> str:
    """The client's name for display: no path, no control or bidi characters, an extension that fits the bytes."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    # Category C: controls, and format characters such as U+202E, which can make "exe.pdf" read "fdp.exe".
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = " ".join(name.split()).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if f".{ext.lower()}" not in kind.extensions:
        # A PDF named .html would open in a browser when saved; the name must say what the bytes are.
        stem, ext = name, kind.extensions[0].lstrip(".")
    stem = stem or "附件"
    return f"{stem[: MAX_FILENAME - len(ext) - 1]}.{ext}"


def content_disposition(filename: str) -> str:
    """Always `attachment`; the UTF-8 name per RFC 5987/6266, with an ASCII fallback for old clients."""
    stem, _, ext = filename.rpartition(".")
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    ascii_stem = re.sub(r"[^A-Za-z0-9._ ()-]+", "_", ascii_stem).strip(" _.") or "attachment"
    fallback = f"{ascii_stem}.{re.sub(r'[^A-Za-z0-9]', '', ext)}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# --- who may do what ------------------------------------------------------------------------------------------


def _may_attach(session: Session, actor: Actor, application_id: int, lock: bool) -> tuple[Application, Definition]:
    definitions = programme_definitions(session)
    app = visible_or_not_found(session, actor, application_id, lock=lock, definitions=definitions)
    definition = definitions[app.programme_version_id]
    if actor.role != "applicant":
        raise Forbidden("only the applicant uploads attachments")
    if app.state not in definition.editable and app.state != SUPPLEMENT_STATE:
        allowed = [*definition.editable, *([SUPPLEMENT_STATE] if SUPPLEMENT_STATE in definition.states else [])]
        states = " or ".join(allowed)
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
        if not kind.allowed:
            problems.append(Problem("file", "type_not_allowed", refusal(kind, lang)))
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
    """The row and its audit event, in one transaction; the previous version of the category is superseded."""
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


def for_download(session: Session, actor: Actor, attachment_id: int) -> Attachment:
    """One attachment, only for someone who may see its application; otherwise exactly as if it did not exist."""
    row = session.get(Attachment, attachment_id)
    if row is None or get_visible(session, actor, row.application_id) is None:
        raise NotFound(f"attachment {attachment_id} not found")
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
    "Received",
    "UploadTooLarge",
    "attachments_of",
    "blob_key",
    "clean_filename",
    "content_disposition",
    "for_download",
    "missing_categories",
    "open_blob",
    "receive",
    "required_categories",
    "rules_for",
    "upload",
]
