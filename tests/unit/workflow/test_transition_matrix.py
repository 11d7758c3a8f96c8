"""Every transition of every shipped programme: its allowed role, every forbidden role, and an invalid state.

The cases are generated from the definitions, so a new transition is covered without touching this file.

What a refused actor is told, by design:
- `NotFound` when the actor may not see the application at all (no scope in the programme, a draft, an
  expert not on the panel): to them it does not exist, so we do not even say "forbidden".
- `Forbidden` when the actor sees the application but their role never fires this trigger in the programme
  (the auditor, the admin, another stage's desk).
- `NotAllowedNow` when the role does fire this trigger, but not from the current state (the municipal reviewer
  rejecting while the district still pre-reviews), naming the state and what the actor may do instead.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories
from workflow.accounts import ROLES, SYSTEM, SYSTEM_ROLE
from workflow.db import db
from workflow.definitions import Definition, shipped
from workflow.engine import fire
from workflow.errors import Forbidden, NotAllowedNow, NotFound, WorkflowError
from workflow.models import Assignment

DEFINITIONS = shipped()
# Where the cast's finance officer sees an application (driven the shortest way, never archived after a payment).
FROM_FUNDING_REVIEW = {"funding_review", "award_proposed", "award_approved", "paid"}


def _cases() -> list[pytest.ParameterSet]:
    """One case per (programme, trigger, source state, allowed role)."""
    cases = []
    for definition in DEFINITIONS:
        for transition in definition.transitions:
            for source in transition.sources:
                for role in transition.roles:
                    cases.append(
                        pytest.param(
                            definition,
                            transition,
                            source,
                            role,
                            id=f"{definition.code}:{transition.trigger}@{source}:{role}",
                        )
                    )
    return cases


def _pairs() -> list[pytest.ParameterSet]:
    """One case per (programme, trigger, source state)."""
    return [
        pytest.param(definition, transition, source, id=f"{definition.code}:{transition.trigger}@{source}")
        for definition in DEFINITIONS
        for transition in definition.transitions
        for source in transition.sources
    ]


def _triggers_with_roles() -> list[pytest.ParameterSet]:
    """One case per (programme, trigger, allowed role), whatever the source."""
    seen = {}
    for definition in DEFINITIONS:
        for transition in definition.transitions:
            for role in transition.roles:
                seen.setdefault((definition.code, transition.trigger, role), (definition, transition.trigger, role))
    return [pytest.param(*case, id=f"{code}:{trigger}:{role}") for (code, trigger, role), case in seen.items()]


def _programme_with_kind(definition: Definition, cast: factories.Cast) -> int:
    return factories.new_application(cast, definition.code, definition.applicant_kinds[0])


def _expert_assigned(cast: factories.Cast, app_id: int) -> bool:
    """The cast's expert sits on the panel and has declared no conflict (only then does the file open)."""
    with db.transaction() as session:
        found = session.scalar(
            select(Assignment.id).where(
                Assignment.application_id == app_id,
                Assignment.user_id == cast.expert.id,
                Assignment.active.is_(True),
                Assignment.conflict.is_(False),
            )
        )
    return found is not None


def _sees(definition: Definition, role: str, state: str, expert_assigned: bool) -> bool:
    """Our own model of who may see the cast's application (same district, own organisation)."""
    if role == SYSTEM_ROLE:
        return True
    scope = definition.scopes.get(role)
    if scope is None:
        return False
    if scope == "own_organisation":
        return True
    if state == definition.initial:
        return False  # drafts are the applicant's alone
    if scope == "assigned":
        return expert_assigned
    if role == "finance_officer":
        return state in FROM_FUNDING_REVIEW  # finance has no business with files before the funding review
    return True


def _may_fire_now(definition: Definition, state: str, role: str) -> list[str]:
    """Triggers a role may fire from a state (the panel-leader rule holds: the cast's expert leads)."""
    return list(dict.fromkeys(t.trigger for t in definition.from_state(state) if role in t.roles))


@pytest.mark.parametrize(("definition", "transition", "source", "role"), _cases())
def test_allowed_role_fires_from_source(cast, definition, transition, source, role):
    """The role the definition names fires the trigger from this source and lands in the destination."""
    app_id = _programme_with_kind(definition, cast)
    factories.drive_to(cast, app_id, source)
    assert factories.state_of(app_id)[0] == source
    if role == "expert":
        factories.ensure_leader(cast, app_id)
    if "panel_sheets_complete" in transition.guards:
        factories.score_sheet(cast.expert, app_id)
        factories.note_visit_steps(app_id)
    _, version = factories.state_of(app_id)

    result = fire(
        app_id,
        transition.trigger,
        factories.actor_for(cast, transition.trigger, role),
        factories.payload_for(transition.trigger, app_id),
        expected_version=version,
    )

    assert (result.from_state, result.state, result.version) == (source, transition.dest, version + 1)
    assert factories.state_of(app_id) == (transition.dest, version + 1)


@pytest.mark.parametrize(("definition", "transition", "source"), _pairs())
def test_forbidden_roles_are_refused(cast, definition, transition, source):
    """Every role the transition does not name is refused (404, 403 or 409 as the module docstring says)."""
    app_id = _programme_with_kind(definition, cast)
    factories.drive_to(cast, app_id, source)
    assigned = _expert_assigned(cast, app_id)
    trigger = transition.trigger
    outsiders = [r for r in (*ROLES, SYSTEM_ROLE) if r not in transition.roles]
    assert {"auditor", "admin"} <= set(outsiders)

    for role in outsiders:
        actor = SYSTEM if role == SYSTEM_ROLE else cast.by_role[role]
        if not _sees(definition, role, source, assigned):
            expected: type[Exception] = NotFound
        elif role not in definition.roles_for(trigger):
            expected = Forbidden
        else:
            expected = NotAllowedNow
        try:
            fire(app_id, trigger, actor, factories.payload_for(trigger, app_id))
        except WorkflowError as exc:
            error: WorkflowError | None = exc
        else:
            error = None
        assert type(error) is expected, f"{role}: expected {expected.__name__}, got {error!r}"
        if isinstance(error, Forbidden):
            assert f"role '{role}' may not {trigger}" in error.detail
        if isinstance(error, NotAllowedNow):
            assert error.state == source
        assert factories.state_of(app_id)[0] == source, f"{role} moved the application"


@pytest.mark.parametrize(("definition", "trigger", "role"), _triggers_with_roles())
def test_allowed_role_in_invalid_state_is_told_what_it_may_do(cast, definition, trigger, role):
    """From a state that is no source of the trigger: NotAllowedNow naming the state and the triggers allowed now."""
    assigned_by_panel = role == "expert"
    sources = {s for t in definition.transitions if t.trigger == trigger for s in t.sources}
    state = next(
        s
        for s in definition.states
        if s not in sources and _sees(definition, role, s, expert_assigned=assigned_by_panel)
    )
    app_id = _programme_with_kind(definition, cast)
    factories.drive_to(cast, app_id, state)
    if assigned_by_panel:
        factories.ensure_leader(cast, app_id)

    with pytest.raises(NotAllowedNow) as excinfo:
        fire(app_id, trigger, factories.actor_for(cast, trigger, role), factories.payload_for(trigger, app_id))

    error = excinfo.value
    expected = _may_fire_now(definition, state, role)
    assert error.status == 409
    assert error.state == state
    assert error.allowed_triggers == expected
    assert f"'{state}'" in error.detail
    assert all(t in error.detail for t in expected)
    if not expected:
        assert "you may now: nothing" in error.detail
    assert factories.state_of(app_id)[0] == state


def test_unknown_trigger_is_not_allowed_now(cast):
    """A trigger the programme does not have is answered like one not allowed now, with the real choices."""
    app_id = factories.new_application(cast)
    with pytest.raises(NotAllowedNow) as excinfo:
        fire(app_id, "to_paid", cast.applicant)
    assert excinfo.value.allowed_triggers == ["submit", "withdraw"]
    assert f"not a trigger of {factories.definition_of(app_id).label}" in excinfo.value.detail


def test_matrix_covers_both_programmes_and_system_triggers():
    """The generated matrix includes both programmes and the system's own triggers (lapse, archive)."""
    ids = [case.id for case in _cases()]
    assert any(i.startswith("monitoring-fund:") for i in ids)
    assert "emc-acceptance:lapse@supplement_requested:system" in ids
    assert "emc-acceptance:archive@lapsed:system" in ids
    assert "monitoring-fund:archive@paid:system" in ids
