"""Invariants every shipped programme definition keeps, checked here independently of the parser."""

from __future__ import annotations

import copy
from collections import deque
from typing import Any

import pytest

from tests import factories
from workflow import machine
from workflow.accounts import ROLES, SYSTEM_ROLE
from workflow.definitions import Definition, DefinitionError, parse, shipped

DEFINITIONS = shipped()


def _ids(definition: Definition) -> str:
    return definition.label


def _reachable(definition: Definition) -> set[str]:
    """Breadth-first walk over the raw transition data, not the parser's own helper."""
    reached = {definition.raw["initial"]}
    queue = deque(reached)
    while queue:
        state = queue.popleft()
        for spec in definition.raw["transitions"]:
            sources = [spec["source"]] if isinstance(spec["source"], str) else spec["source"]
            if state in sources and spec["dest"] not in reached:
                reached.add(spec["dest"])
                queue.append(spec["dest"])
    return reached


def _exits(definition: Definition, state: str) -> list[str]:
    return [t.trigger for t in definition.transitions if state in t.sources]


def test_two_programmes_are_shipped():
    """Both programmes of the issue ship, each as version 1."""
    assert {d.label for d in DEFINITIONS} >= {"emc-acceptance@1", "monitoring-fund@1"}


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids)
def test_every_state_is_reachable(definition):
    """No state is dead weight: each can be reached from the initial state."""
    assert set(definition.states) - _reachable(definition) == set()


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids)
def test_terminal_states_have_no_way_out(definition):
    """A terminal state is final: no transition leaves it."""
    terminals = [name for name, state in definition.states.items() if state.terminal]
    assert terminals, "a programme must end somewhere"
    assert {name: _exits(definition, name) for name in terminals} == {name: [] for name in terminals}


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids)
def test_every_other_state_has_a_way_out(definition):
    """An application never gets stuck in a state that is not marked terminal."""
    stuck = [name for name, state in definition.states.items() if not state.terminal and not _exits(definition, name)]
    assert stuck == []


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids)
def test_every_transition_has_a_known_role(definition):
    """Someone may fire every trigger, and only roles that exist."""
    for transition in definition.transitions:
        assert transition.roles, f"{transition.trigger} has no role"
        assert set(transition.roles) <= {*ROLES, SYSTEM_ROLE}


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids)
def test_every_human_role_can_see_what_it_acts_on(definition):
    """A role that fires a trigger has a scope in the programme (else it could never find the application)."""
    acting = {r for t in definition.transitions for r in t.roles} - {SYSTEM_ROLE}
    assert acting <= set(definition.scopes)


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids)
def test_no_trigger_is_a_state_shortcut(definition):
    """No `to_<state>` triggers: every move is a named business decision."""
    assert [t for t in definition.triggers if t.startswith("to_")] == []


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids)
def test_machine_has_exactly_the_definitions_triggers(definition):
    """The shared Machine is built with auto_transitions off: its events are the definition's triggers."""
    built = machine.machine_for(definition)
    assert built.auto_transitions is False
    assert set(built.events) == set(definition.triggers)
    assert not any(f"to_{state}" in built.events for state in definition.states)


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids)
def test_machine_lands_where_the_definition_says(definition):
    """For every (trigger, source) the shared machine moves to the declared destination."""
    for transition in definition.transitions:
        for source in transition.sources:
            assert machine.next_state(definition, source, transition.trigger) == transition.dest


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids)
def test_one_machine_per_definition_version(definition):
    """Building twice returns the very same Machine, also for a re-parsed copy of the same version."""
    first = machine.machine_for(definition)
    assert machine.machine_for(definition) is first
    assert machine.machine_for(parse(copy.deepcopy(definition.raw))) is first


def test_machines_do_not_grow_with_applications(cast):
    """Creating and moving applications builds no new Machine (never one per application)."""
    for definition in DEFINITIONS:
        machine.machine_for(definition)
    # The monitoring fund's shipped round has closed: the factory opens one (a version, with its own Machine).
    factories.drive_to(cast, factories.new_application(cast, "monitoring-fund"), "funding_review")
    before = machine.machine_count()
    for programme in ("emc-acceptance", "monitoring-fund", "emc-acceptance"):
        app_id = factories.new_application(cast, programme)
        factories.drive_to(cast, app_id, "funding_review")
    assert machine.machine_count() == before


# --- the parser refuses broken definitions, naming the problem --------------------------------------------------


def _first(raw: dict[str, Any], trigger: str) -> dict[str, Any]:
    return next(spec for spec in raw["transitions"] if spec["trigger"] == trigger)


def _unknown_state(raw: dict[str, Any]) -> str:
    _first(raw, "submit")["dest"] = "nowhere"
    return "unknown state 'nowhere'"


def _missing_role(raw: dict[str, Any]) -> str:
    del _first(raw, "submit")["roles"]
    return "(submit): no role may fire it"


def _unknown_role(raw: dict[str, Any]) -> str:
    _first(raw, "submit")["roles"] = ["janitor"]
    return "unknown role 'janitor'"


def _unreachable_state(raw: dict[str, Any]) -> str:
    raw["states"]["limbo"] = {"label": {"zh": "无人可达", "en": "Limbo"}}
    raw["transitions"].append({"trigger": "escape", "source": "limbo", "dest": "archived", "roles": ["admin"]})
    return "state 'limbo' cannot be reached from 'draft'"


def _terminal_with_exit(raw: dict[str, Any]) -> str:
    raw["transitions"].append({"trigger": "reopen", "source": "archived", "dest": "draft", "roles": ["admin"]})
    return "terminal state 'archived' has a way out (reopen)"


def _dead_end(raw: dict[str, Any]) -> str:
    raw["states"]["stuck"] = {"label": {"en": "Stuck"}}
    raw["transitions"].append({"trigger": "park", "source": "draft", "dest": "stuck", "roles": ["applicant"]})
    return "state 'stuck' has no way out but is not marked terminal"


def _state_shortcut(raw: dict[str, Any]) -> str:
    _first(raw, "submit")["trigger"] = "to_district_review"
    return "trigger names starting 'to_' are reserved"


def _role_without_scope(raw: dict[str, Any]) -> str:
    _first(raw, "submit")["roles"] = ["security_admin"]
    return "role 'security_admin' fires 'submit' but has no scope"


BREAKAGES = [
    _unknown_state,
    _missing_role,
    _unknown_role,
    _unreachable_state,
    _terminal_with_exit,
    _dead_end,
    _state_shortcut,
    _role_without_scope,
]


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids)
@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda fn: fn.__name__.strip("_"))
def test_parser_refuses_broken_definition(definition, breakage):
    """A definition with one defect is refused with a message that names it."""
    raw = copy.deepcopy(definition.raw)
    expected = breakage(raw)
    with pytest.raises(DefinitionError) as excinfo:
        parse(raw, source="broken.toml")
    assert any(expected in problem for problem in excinfo.value.problems), excinfo.value.problems
    assert str(excinfo.value).startswith("broken.toml: ")


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids)
def test_parser_accepts_an_unchanged_copy(definition):
    """The breakage tests start from a valid definition (else they prove nothing)."""
    assert parse(copy.deepcopy(definition.raw)).digest == definition.digest


def test_a_new_version_declares_to_whom_a_transition_is_addressed():
    """`visibility` on a transition overrides the default table; a value outside the three is refused."""
    raw = copy.deepcopy(next(d for d in DEFINITIONS if d.code == "emc-acceptance").raw)
    raw["version"] = 99
    confirm = next(t for t in raw["transitions"] if t["trigger"] == "confirm_complete")
    confirm["visibility"] = "applicant"
    definition = parse(raw)
    assert definition.visibility_of("confirm_complete", "completeness_check") == "applicant"
    assert definition.visibility_of("pass_prereview", "district_review") == "internal"  # the default
    confirm["visibility"] = "everyone"
    with pytest.raises(DefinitionError, match="visibility 'everyone' is not one of applicant, internal, hidden"):
        parse(raw)


def test_finance_reaches_a_programme_from_the_funding_review_unless_the_definition_says_otherwise():
    """By default finance sees funding_review and what only it leads to; archived only once it passed through."""
    raw = copy.deepcopy(next(d for d in DEFINITIONS if d.code == "emc-acceptance").raw)
    always, if_passed, entry = parse(raw).reach_of("finance_officer")  # type: ignore[misc]
    assert (always, if_passed, entry) == (
        {"funding_review", "award_proposed", "award_approved", "paid"},
        {"archived"},
        "funding_review",
    )
    assert parse(raw).reach_of("auditor") is None
    raw["visible_from"] = {"finance_officer": "site_verification"}
    assert "site_verification" in parse(raw).reach_of("finance_officer")[0]  # type: ignore[index]
    raw["visible_from"] = {"finance_officer": "nowhere", "cashier": "paid"}
    with pytest.raises(DefinitionError) as excinfo:
        parse(raw)
    assert excinfo.value.problems == [
        "visible_from: unknown state 'nowhere'",
        "visible_from: role 'cashier' has no scope",
    ]
