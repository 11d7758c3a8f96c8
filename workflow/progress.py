"""Where an application stands on its way: the stages its programme goes through, derived from the definition,
which one it is at, who holds it, what comes next and by when (issue 15 item 3, the applicant's stepper)."""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.accounts import ROLES, SYSTEM_ROLE, User
from workflow.db import as_utc
from workflow.definitions import Definition
from workflow.models import Application, AuditEvent, Deadline
from workflow.registry import ATTENDANTS
from workflow.workdays import SHANGHAI

# Beyond this many states the longest-path search would be slow; the definitions have about fifteen.
MAX_SEARCH_STATES = 40


@dataclass(frozen=True)
class Stage:
    """A stretch of the main path one desk works through (its first state names it), with the detours that leave
    it and come back (a return for correction, a supplement request)."""

    states: tuple[str, ...]
    detours: tuple[str, ...] = ()
    label: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.states[0]


def main_path(definition: Definition) -> list[str]:
    """The longest way from the initial state to a terminal one without going round (the way an application goes
    when nothing stops it); the first found wins a tie, transitions in their declared order."""
    terminal = {name for name, s in definition.states.items() if s.terminal}
    if len(definition.states) > MAX_SEARCH_STATES:  # pragma: no cover - no shipped definition is this large
        return [definition.initial, *sorted(terminal)][:2]
    best: list[str] = [definition.initial]
    best_open: list[str] = [definition.initial]  # the longest that reaches no terminal, should none be reachable

    def walk(path: list[str]) -> None:
        nonlocal best, best_open
        here = path[-1]
        if here in terminal:
            if len(path) > len(best) or best[-1] not in terminal:
                best = list(path)
            return
        if len(path) > len(best_open):
            best_open = list(path)
        for t in definition.from_state(here):
            if t.dest not in path:
                path.append(t.dest)
                walk(path)
                path.pop()

    walk([definition.initial])
    return best if best[-1] in terminal else best_open


def _movers(definition: Definition, state: str, following: str | None) -> frozenset[str]:
    """The roles that move the application from `state` on to the next state of the main path."""
    return frozenset(
        r for t in definition.from_state(state) if t.dest == following for r in t.roles if r != SYSTEM_ROLE
    )


def _side_reach(definition: Definition, start: str, on_path: set[str], forward: bool) -> set[str]:
    """The main-path states reached from `start` (or reaching it, `forward` False) through side states only."""
    found: set[str] = set()
    seen = {start}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if forward:
            nxt = [t.dest for t in definition.from_state(state)]
        else:
            nxt = [s for t in definition.transitions if t.dest == state for s in t.sources]
        for other in nxt:
            if other in on_path:
                found.add(other)
            elif other not in seen:
                seen.add(other)
                queue.append(other)
    return found


def side_states(definition: Definition, path: Sequence[str]) -> tuple[dict[str, str], set[str]]:
    """The states off the main path: detours (state -> the main-path state they come back to) and exits (the
    application leaves the way for good: rejected, withdrawn, lapsed...)."""
    index = {s: i for i, s in enumerate(path)}
    detours: dict[str, str] = {}
    exits: set[str] = set()
    for name in definition.states:
        if name in index:
            continue
        entries = _side_reach(definition, name, set(index), forward=False)
        back = [
            s
            for s in _side_reach(definition, name, set(index), forward=True)
            if entries and index[s] <= max(index[e] for e in entries)
        ]
        if back:
            detours[name] = max(back, key=index.__getitem__)
        else:
            exits.add(name)
    return detours, exits


def stages(definition: Definition) -> list[Stage]:
    """The stages, in order: a definition's own `[[stages]]` (states and label) if it declares them; otherwise
    the main path cut where the role that moves it on changes, each detour under the stage it comes back to."""
    path = main_path(definition)
    detours, _exits = side_states(definition, path)
    declared = definition.raw.get("stages")
    groups: list[tuple[list[str], dict[str, str]]] = []
    if isinstance(declared, list) and declared:
        for spec in declared:
            names = [s for s in spec.get("states", []) if s in path] if isinstance(spec, dict) else []
            if names:
                groups.append((names, dict(spec.get("label", {}))))
        covered = {s for names, _label in groups for s in names}
        if covered != set(path):  # a declaration that misses a state of the way is not used
            groups = []
    if not groups:
        for i, state in enumerate(path):
            following = path[i + 1] if i + 1 < len(path) else None
            movers = _movers(definition, state, following)
            if groups and i > 0:
                before = path[i - 1]
                if movers and movers == _movers(definition, before, state):
                    groups[-1][0].append(state)
                    continue
            groups.append(([state], {}))
    out = []
    for names, label in groups:
        own = tuple(d for d, back in detours.items() if back in names)
        out.append(Stage(states=tuple(names), detours=own, label=label or dict(definition.states[names[0]].label)))
    return out


def holder_roles(definition: Definition, state: str, attending: Sequence[str] = ()) -> tuple[str, ...]:
    """Who holds the application in `state`: the roles that may move it on, and the desks attending to it without a
    transition (a coordinator drawing the panel). The applicant's standing options (withdrawing) do not make it
    theirs where a desk may act."""
    firing = {r for t in definition.from_state(state) for r in t.roles if r != SYSTEM_ROLE}
    firing |= set(attending) - {SYSTEM_ROLE}
    if firing - {"applicant"}:
        firing.discard("applicant")
    return tuple(r for r in ROLES if r in firing)


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    status: str  # done | skipped | current | ended | upcoming
    detour: str | None = None  # the detour state the application is in, within this stage


@dataclass(frozen=True)
class Progress:
    steps: list[Step]
    current: int  # index into steps
    state: str
    ended: str | None  # the exit state's label, when the application left the way (or was archived after it)
    holders: tuple[str, ...]  # roles
    actions: tuple[str, ...]  # what the applicant must do to move on, when it is theirs (trigger labels)
    next_label: str | None
    due: dt.date | None  # the last day, Beijing time
    due_source: str | None  # deadline | window


def progress(
    definition: Definition,
    state: str,
    visited: Sequence[str] = (),
    lang: str = "zh",
    attending: Sequence[str] = (),
    due: dt.date | None = None,
) -> Progress:
    """The stepper for an application in `state`, having been through `visited` (its states in order)."""
    all_stages = stages(definition)
    path = main_path(definition)
    detours, exits = side_states(definition, path)
    stage_of = {s: i for i, st in enumerate(all_stages) for s in (*st.states, *st.detours)}
    seen = {definition.initial, *visited, state}
    ended_in = next((s for s in reversed([*visited, state]) if s in exits), None)
    if state in exits:
        before = [s for s in visited if s in stage_of]
        current = stage_of[before[-1]] if before else 0
    else:
        current = stage_of.get(state, 0)
    steps = []
    for i, st in enumerate(all_stages):
        label = st.label.get(lang) or st.label.get("en") or st.key
        if i < current:
            status = "done" if seen & set(st.states) else "skipped"
        elif i == current:
            status = "ended" if state in exits else "current"
        else:
            status = "upcoming"
        detour = definition.state_label(state, lang) if i == current and state in detours else None
        steps.append(Step(st.key, label, status, detour))

    holders: tuple[str, ...] = (
        () if state in exits or definition.states[state].terminal else (holder_roles(definition, state, attending))
    )
    actions: tuple[str, ...] = ()
    if holders == ("applicant",):
        index = {s: i for i, s in enumerate(path)}
        onward = [t for t in definition.from_state(state) if "applicant" in t.roles and t.dest not in exits]
        actions = tuple(dict.fromkeys(definition.trigger_label(t.trigger, lang) for t in onward if t.dest in index))
    if state in detours:
        next_label: str | None = definition.state_label(detours[state], lang)
    elif state in exits or current + 1 >= len(steps):
        next_label = None
    else:
        next_label = steps[current + 1].label
    due_source = "deadline" if due is not None else None
    if due is None and state == definition.initial and definition.window and definition.window.closes:
        due, due_source = definition.window.closes, "window"
    return Progress(
        steps=steps,
        current=current,
        state=state,
        ended=definition.state_label(ended_in, lang) if ended_in else None,
        holders=holders,
        actions=actions,
        next_label=next_label,
        due=due,
        due_source=due_source,
    )


def open_due_date(session: Session, application: Application) -> dt.date | None:
    """The last day (Beijing) before the open deadline of the application's state runs out, if it has one."""
    due_at = session.scalar(
        select(Deadline.due_at)
        .where(
            Deadline.application_id == application.id,
            Deadline.state == application.state,
            Deadline.closed_at.is_(None),
            Deadline.fired_at.is_(None),
        )
        .order_by(Deadline.due_at)
        .limit(1)
    )
    if due_at is None:
        return None
    return (as_utc(due_at) - dt.timedelta(seconds=1)).astimezone(SHANGHAI).date()


def visited_states(session: Session, application_id: int) -> list[str]:
    """The states the application has entered, in order (its transitions' destinations)."""
    rows = session.scalars(
        select(AuditEvent.to_state)
        .where(AuditEvent.application_id == application_id, AuditEvent.outcome == "transition")
        .order_by(AuditEvent.seq)
    )
    return [s for s in rows if s]


def attending_roles(session: Session, application: Application) -> list[str]:
    """The roles of the desks that attend to the application in its state without a transition (stages name them)."""
    ids = {uid for _name, attending in sorted(ATTENDANTS.items()) for uid in attending(session, application)}
    if not ids:
        return []
    return sorted(set(session.scalars(select(User.role).where(User.id.in_(ids)))))


def progress_of(session: Session, application: Application, definition: Definition, lang: str = "zh") -> Progress:
    """The stepper of a stored application, read from its history, its desks and its open deadline."""
    return progress(
        definition,
        application.state,
        [definition.initial, *visited_states(session, application.id)],
        lang,
        attending=attending_roles(session, application),
        due=open_due_date(session, application),
    )


def desk_name(role: str, definition: Definition, district: str | None, organisation: str, lang: str = "zh") -> str:
    """A holder named as the applicant knows the desk (seed 002 §五: 项目所在地主管部门, 市经济信息化委, 第三方机构,
    专家组; seed 000: 市计测院, 市市场监管局), never a login."""
    authority = definition.authority.get("short") or definition.authority.get("name") or ""
    reviewer = definition.authority.get("reviewer_short") or authority
    zh = {
        "applicant": organisation,
        "district_reviewer": f"{district or ''}主管部门",
        "municipal_reviewer": authority or "市主管部门",
        "monitoring_reviewer": reviewer,
        "market_regulator": authority,
        "agency_coordinator": "第三方机构",
        "expert": "专家组",
        "finance_officer": f"{authority}（资金审核）" if authority else "资金审核",
    }
    en = {
        "applicant": organisation,
        "district_reviewer": f"The district authority ({district})" if district else "The district authority",
        "municipal_reviewer": authority or "The commission",
        "monitoring_reviewer": reviewer,
        "market_regulator": authority,
        "agency_coordinator": "The third-party agency",
        "expert": "The expert panel",
        "finance_officer": f"{authority} (funding)" if authority else "Funding",
    }
    names = zh if lang == "zh" else en
    return names.get(role) or role
