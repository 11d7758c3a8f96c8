"""The one function that decides which applications a user may see. Lists and detail pages both use it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, false, or_, select, true
from sqlalchemy.orm import Session, joinedload, scoped_session

from workflow.accounts import SYSTEM_ROLE, Actor, Organisation
from workflow.db import READS_ONLY, table_of
from workflow.definitions import Definition, from_stored
from workflow.errors import NotFound
from workflow.models import Application, Assignment, AuditEvent, ProgrammeVersion

_stored: dict[int, tuple[str, Definition]] = {}
_versions = table_of(ProgrammeVersion)
_VERSION_DIGESTS = select(_versions.c.id, _versions.c.digest)


def _memo(session: Session) -> dict[Any, Any] | None:
    """What this read-only transaction has already worked out (a page asks several times); None when the session
    may write, since its own change could alter the answer."""
    if isinstance(session, scoped_session):  # a view's db.session: the request's own
        session = session()
    if not session.info.get(READS_ONLY):
        return None
    session.connection()  # begins the transaction the memo belongs to, if none has begun
    transaction = session.get_transaction()
    kept = session.info.get("visibility_memo")
    if kept is None or kept[0] is not transaction:
        kept = session.info["visibility_memo"] = (transaction, {})
    return kept[1]  # type: ignore[no-any-return]


def programme_definitions(session: Session, rows: Iterable[tuple[int, str]] | None = None) -> dict[int, Definition]:
    """Every published version by id; definition JSON is fetched once per digest. `rows`: the (id, digest) pairs,
    when the caller read them along with something else (fire() on PostgreSQL, in the actor's round trip)."""
    if rows is None:
        memo = _memo(session)
        rows = memo.get("digests") if memo is not None else None
        if rows is None:
            rows = session.connection().execute(_VERSION_DIGESTS).all()
            if memo is not None:
                memo["digests"] = rows
    out: dict[int, Definition] = {}
    for pv_id, digest in rows:
        cached = _stored.get(pv_id)
        if cached is None or cached[0] != digest:
            raw = session.scalar(select(ProgrammeVersion.definition).where(ProgrammeVersion.id == pv_id))
            assert raw is not None
            cached = (digest, from_stored(raw, digest))
            _stored[pv_id] = cached
        out[pv_id] = cached[1]
    return out


def current_definitions(definitions: dict[int, Definition]) -> dict[str, Definition]:
    """Each programme's newest published version, by code: what a new application is created under."""
    newest: dict[str, Definition] = {}
    for d in definitions.values():
        if d.code not in newest or d.version > newest[d.code].version:
            newest[d.code] = d
    return newest


def _scope_predicate(scope: str, actor: Actor, initial: str) -> ColumnElement[bool]:
    submitted = Application.state != initial  # drafts are the applicant's alone
    if scope == "own_organisation":
        if actor.organisation_id is None:
            return false()
        return Application.organisation_id == actor.organisation_id
    if scope == "programme":
        return submitted
    if scope == "jurisdiction":
        reach: list[ColumnElement[bool]] = []
        if actor.district:
            reach.append(Application.district == actor.district)
        if actor.organisation_id is not None:
            # A group company's reviewers see the units that report to it.
            members = select(Organisation.id).where(Organisation.group_id == actor.organisation_id)
            reach.append(Application.organisation_id.in_(members))
        return and_(submitted, or_(*reach)) if reach else false()
    if scope == "assigned":
        # The file opens only after the person has declared no conflict of interest.
        assigned = exists().where(
            Assignment.application_id == Application.id,
            Assignment.user_id == actor.id,
            Assignment.active.is_(True),
            Assignment.conflict.is_(False),
        )
        return and_(submitted, assigned)
    raise ValueError(f"unknown scope '{scope}'")


Reach = tuple[frozenset[str], frozenset[str], str] | None


def _reach_predicate(reach: Reach) -> ColumnElement[bool]:
    """Only from a state on (Definition.reach_of): the states after it, and those also reached otherwise
    (archived) once the application has passed through it."""
    if reach is None:
        return true()
    always, if_passed, entry = reach
    passed = exists().where(
        AuditEvent.application_id == Application.id,
        AuditEvent.outcome == "transition",
        AuditEvent.to_state == entry,
    )
    return or_(Application.state.in_(sorted(always)), and_(Application.state.in_(sorted(if_passed)), passed))


def visibility_predicate(
    session: Session, actor: Actor, definitions: dict[int, Definition] | None = None
) -> ColumnElement[bool]:
    if actor.role == SYSTEM_ROLE:
        return true()
    if not actor.active:
        return false()
    grouped: dict[tuple[str, str, Reach], list[int]] = defaultdict(list)
    for pv_id, definition in (definitions or programme_definitions(session)).items():
        scope = definition.scopes.get(actor.role)
        if scope:
            grouped[(scope, definition.initial, definition.reach_of(actor.role))].append(pv_id)
    if not grouped:
        return false()
    return or_(
        *(
            and_(
                Application.programme_version_id.in_(ids),
                _scope_predicate(scope, actor, initial),
                _reach_predicate(reach),
            )
            for (scope, initial, reach), ids in grouped.items()
        )
    )


def visible_applications(
    session: Session, actor: Actor, definitions: dict[int, Definition] | None = None
) -> Select[Any]:
    """SELECT of the applications `actor` may see; add filters, ordering and paging to it."""
    return select(Application).where(visibility_predicate(session, actor, definitions))


def _known_predicate(actor: Actor) -> ColumnElement[bool]:
    if actor.role == SYSTEM_ROLE or not actor.active or actor.id is None:
        return false()
    return exists().where(
        Assignment.application_id == Application.id,
        Assignment.user_id == actor.id,
        or_(and_(Assignment.active.is_(True), Assignment.declared_at.is_(None)), Assignment.conflict.is_(True)),
    )


def known_by_assignment(actor: Actor) -> Select[Any]:
    """SELECT of the applications `actor` is assigned to without seeing them: a seat not yet declared on, or left
    on a declared conflict. The person may know whose file it is (to judge a conflict of interest), not open it."""
    return select(Application).where(_known_predicate(actor))


def visible_or_known(session: Session, actor: Actor) -> Select[Any]:
    """What `actor` may see, and what they are assigned to without seeing (`known_by_assignment`)."""
    return select(Application).where(or_(visibility_predicate(session, actor), _known_predicate(actor)))


_one_visible: dict[tuple[Any, ...], Select[Any]] = {}


def get_visible(
    session: Session,
    actor: Actor,
    application_id: int,
    *,
    lock: bool = False,
    definitions: dict[int, Definition] | None = None,
) -> Application | None:
    """One application if `actor` may see it, else None (exactly as if it did not exist)."""
    definitions = definitions if definitions is not None else programme_definitions(session)
    scope = (actor.role, actor.id, actor.organisation_id, actor.district, actor.active, lock)
    key = (scope, tuple((pv_id, d.digest) for pv_id, d in definitions.items()))
    memo = None if lock else _memo(session)
    if memo is not None and (key, application_id) in memo:
        return memo[(key, application_id)]  # type: ignore[no-any-return]
    query = _one_visible.get(key)
    if query is None:
        # Building the predicate costs more than running it; the statement depends only on the scope.
        query = visible_applications(session, actor, definitions).where(Application.id == bindparam("b_app_id"))
        # Every page and the API name the unit: loaded with the application, not by a second statement.
        query = query.with_for_update(of=Application) if lock else query.options(joinedload(Application.organisation))
        if len(_one_visible) >= 4096:
            _one_visible.clear()
        _one_visible[key] = query
    found = session.scalars(query, {"b_app_id": application_id}).one_or_none()
    if memo is not None:
        memo[(key, application_id)] = found
    return found


def visible_or_not_found(
    session: Session,
    actor: Actor,
    application_id: int,
    *,
    lock: bool = False,
    definitions: dict[int, Definition] | None = None,
) -> Application:
    """The application if `actor` may see it; else NotFound, worded as for an id that does not exist."""
    app = get_visible(session, actor, application_id, lock=lock, definitions=definitions)
    if app is None:
        raise NotFound(f"application {application_id} not found")
    return app


def can_see(session: Session, actor: Actor, application_id: int) -> bool:
    query = select(Application.id).where(visibility_predicate(session, actor), Application.id == application_id)
    return session.scalar(query) is not None
