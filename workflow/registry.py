"""Guards, effects and role rules, registered by name and referenced from programme definitions.

Stages (`review`, `forms`, `meters`) register theirs on import; `workflow` never imports them.
A name may carry arguments after a colon: ``four_eyes:propose_award``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from workflow.errors import Problem

if TYPE_CHECKING:
    from workflow.accounts import Actor
    from workflow.definitions import Definition, TransitionDef
    from workflow.models import Application


@dataclass
class Context:
    """What a guard, effect or rule gets: the locked application and the command."""

    session: Session
    application: Application
    actor: Actor
    trigger: str
    payload: dict[str, Any]
    definition: Definition
    transition: TransitionDef
    from_state: str
    request_id: str | None = None
    event_seq: int | None = None  # set for effects: the audit event of this transition


Guard = Callable[..., Iterable[Problem]]
Effect = Callable[..., None]
Rule = Callable[..., str | None]  # None: allowed; a string: why not (answered 403)

# Checks of a draft's form changes before they are stored (unknown keys): (definition, kind, changes) -> problems.
DraftCheck = Callable[["Definition", str, dict[str, Any]], Iterable[Problem]]

GUARDS: dict[str, Guard] = {}
DRAFT_CHECKS: list[DraftCheck] = []
EFFECTS: dict[str, Effect] = {}
RULES: dict[str, Rule] = {}


def _register(table: dict[str, Any], kind: str, name: str) -> Callable[[Any], Any]:
    def decorator(fn: Any) -> Any:
        if name in table and table[name] is not fn:
            raise ValueError(f"{kind} '{name}' is already registered by {table[name].__module__}")
        table[name] = fn
        return fn

    return decorator


# Guards that decide by who the actor is (four eyes), not by the payload: whoever they refuse is not the one a
# transition waits for, which is what telling people "your turn" needs to know.
ACTOR_GUARDS: set[str] = set()


def guard(name: str, *, about_actor: bool = False) -> Callable[[Guard], Guard]:
    if about_actor:
        ACTOR_GUARDS.add(name)
    return _register(GUARDS, "guard", name)


def effect(name: str) -> Callable[[Effect], Effect]:
    return _register(EFFECTS, "effect", name)


def rule(name: str) -> Callable[[Rule], Rule]:
    return _register(RULES, "rule", name)


def draft_check(fn: DraftCheck) -> DraftCheck:
    """Run `fn` on every draft's form changes (creation and edits); its problems refuse the change (422)."""
    if fn not in DRAFT_CHECKS:
        DRAFT_CHECKS.append(fn)
    return fn


def draft_problems(definition: Definition, kind: str, changes: dict[str, Any]) -> list[Problem]:
    return [problem for check in DRAFT_CHECKS for problem in check(definition, kind, changes)]


def split(ref: str) -> tuple[str, list[str]]:
    name, _, args = ref.partition(":")
    return name, [a for a in args.split(",") if a] if args else []


def missing(definition: Definition) -> list[str]:
    """Names a definition uses that nothing has registered (a plugin not loaded)."""
    out = []
    for t in definition.transitions:
        tables = ((GUARDS, "guard", t.guards), (EFFECTS, "effect", t.effects), (RULES, "rule", t.rules))
        for table, kind, refs in tables:
            for ref in refs:
                if split(ref)[0] not in table:
                    out.append(f"{kind} '{split(ref)[0]}' (used by {t.trigger})")
    return sorted(set(out))


# Outbox subscribers: topic -> task names (Celery task names, resolved by the relay).
SUBSCRIBERS: dict[str, list[str]] = {}


def subscribe(topic: str, task_name: str) -> None:
    names = SUBSCRIBERS.setdefault(topic, [])
    if task_name not in names:
        names.append(task_name)


# Reminders: stages name who should be reminded of what today (a visit tomorrow, a queue); the notifications stage
# runs every source once a working day and tells each person once per occasion.


@dataclass(frozen=True)
class Reminder:
    kind: str  # a reminder kind of notifications.kinds
    occasion: str  # unique per person: the same occasion found twice reminds no one twice
    user_ids: tuple[int, ...]
    application_id: int | None = None
    due_on: Any = None  # a date the reader must act by, if any
    data: dict[str, Any] | None = None  # the template's figures (JSON)


# (session, now, options) -> reminders; options are the configuration's reminder settings.
ReminderSource = Callable[[Session, Any, dict[str, Any]], Iterable[Reminder]]
REMINDER_SOURCES: dict[str, ReminderSource] = {}


def reminder_source(name: str) -> Callable[[ReminderSource], ReminderSource]:
    return _register(REMINDER_SOURCES, "reminder source", name)


# Attendants: who has work waiting in a state without firing a transition from it (a coordinator who draws the
# panel). Stages name them; the notifications stage tells them, as it tells whoever may fire a trigger.
Attendants = Callable[[Session, "Application"], Iterable[int]]
ATTENDANTS: dict[str, Attendants] = {}


def attendants(name: str) -> Callable[[Attendants], Attendants]:
    return _register(ATTENDANTS, "attendants", name)


# Rounds (issue 15): what a stage reads from a definition it checks before a draft is published as a round (the
# checklists exist, the award rule holds), since the engine cannot; and what a round sets outside the definition
# (the year's budget), by name.
DefinitionCheck = Callable[["Definition"], Iterable[Problem]]
DEFINITION_CHECKS: list[DefinitionCheck] = []
# (session, actor, programme code, settings) -> None; raises InvalidInput to refuse the publishing.
RoundHook = Callable[[Session, "Actor", str, dict[str, Any]], None]
ROUND_HOOKS: dict[str, RoundHook] = {}


def definition_check(fn: DefinitionCheck) -> DefinitionCheck:
    """Run `fn` on a draft's definition before it is published; its problems refuse the publishing."""
    if fn not in DEFINITION_CHECKS:
        DEFINITION_CHECKS.append(fn)
    return fn


def definition_problems(definition: Definition) -> list[Problem]:
    return [problem for check in DEFINITION_CHECKS for problem in check(definition)]


def round_hook(name: str) -> Callable[[RoundHook], RoundHook]:
    return _register(ROUND_HOOKS, "round hook", name)


# Standing guards and effects: a stage's rules for every transition of a certain shape (a return to the applicant,
# the resubmission that answers it), whatever the definition lists. Published definitions are immutable, so a
# record every version needs cannot wait for each to name it; each function decides from the Context whether the
# transition concerns it. They run after the definition's own guards and effects.
STANDING_GUARDS: list[Guard] = []
STANDING_EFFECTS: list[Effect] = []


def standing_guard(fn: Guard) -> Guard:
    if fn not in STANDING_GUARDS:
        STANDING_GUARDS.append(fn)
    return fn


def standing_effect(fn: Effect) -> Effect:
    if fn not in STANDING_EFFECTS:
        STANDING_EFFECTS.append(fn)
    return fn
