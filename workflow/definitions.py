"""Programme definitions: declarative data (TOML) parsed and checked into immutable objects."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow.accounts import ROLES, SYSTEM_ROLE

PROGRAMMES_DIR = Path(__file__).with_name("programmes")

# How far a role's view of a programme's applications reaches (see workflow.visibility).
SCOPES = ("own_organisation", "jurisdiction", "programme", "assigned")

# To whom a transition's comment and payload are addressed (a transition's `visibility`): "applicant", shown to
# the applicant; "internal", the applicant sees only the change of state; "hidden", the applicant does not see
# the event at all (the fact itself is deliberation: a draft award and its send-back).
VISIBILITIES = ("applicant", "internal", "hidden")

# The visibility of a transition whose definition does not declare one. The published versions (v1, v2 of both
# programmes) are immutable and predate the key, so their visibility comes from here: the applicant's own acts and
# what the applicant must act on or be told (points to correct, supplement items, reasons for a refusal, the
# panel's conclusion, which the verification record gives them too) are addressed to them; the desks' passes and
# referrals, clerical acts and finance's working are internal; a draft award and its send-back are not shown.
DEFAULT_VISIBILITY: dict[str, str] = {
    "submit": "applicant",
    "resubmit": "applicant",
    "supply": "applicant",
    "withdraw": "applicant",
    "return_for_correction": "applicant",
    "request_supplement": "applicant",
    "reject": "applicant",
    "conclude_pass": "applicant",
    "conclude_fail": "applicant",
    "lapse": "applicant",
    "pass_prereview": "internal",
    "confirm_complete": "internal",
    "pass_technical_review": "internal",
    "refer_back": "internal",
    "approve_support": "internal",
    "approve_award": "internal",
    "record_payment": "internal",
    "archive": "internal",
    "propose_award": "hidden",
    "send_back": "hidden",
}

# From which state on a role sees a programme's applications (a definition's `visible_from`), when the definition
# does not say: finance has no business with files before the funding review.
DEFAULT_VISIBLE_FROM: dict[str, str] = {"finance_officer": "funding_review"}


def default_visibility(trigger: str, roles: tuple[str, ...]) -> str:
    """A transition's visibility by the table above; a trigger it does not name is internal unless the applicant
    fires it (their own words)."""
    if trigger in DEFAULT_VISIBILITY:
        return DEFAULT_VISIBILITY[trigger]
    return "applicant" if "applicant" in roles else "internal"


class DefinitionError(ValueError):
    """A programme definition that cannot be published, with every problem found."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


@dataclass(frozen=True)
class StateDef:
    name: str
    label: dict[str, str]
    terminal: bool = False


@dataclass(frozen=True)
class TransitionDef:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    roles: tuple[str, ...]
    requires: tuple[str, ...] = ()
    accepts: tuple[str, ...] = ()  # optional inputs the form offers (a reason a guard accepts instead of a fact)
    guards: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    label: dict[str, str] = field(default_factory=dict)
    submits: bool = False  # the application counts as submitted from this transition on
    visibility: str = "internal"  # one of VISIBILITIES: whether the applicant sees its comment and payload


@dataclass(frozen=True)
class DeadlineDef:
    state: str
    trigger: str
    due_from: str | None = None  # payload field of the entering transition holding the due date
    default_days: int = 10
    working_days: bool = False  # count default_days in working days (workflow.calendar)


@dataclass(frozen=True)
class Window:
    """When applications may be submitted (Shanghai dates, both days included)."""

    opens: dt.date | None
    closes: dt.date | None

    def contains(self, day: dt.date) -> bool:
        return (self.opens is None or day >= self.opens) and (self.closes is None or day <= self.closes)


@dataclass(frozen=True)
class LocalSetting:
    """A value the seeds do not state, chosen locally: shown as such on pages and in docs."""

    key: str
    value: str
    zh: str
    en: str


@dataclass(frozen=True)
class Definition:
    code: str
    version: int
    title: dict[str, str]
    applicant_kinds: tuple[str, ...]
    initial: str
    states: dict[str, StateDef]
    transitions: tuple[TransitionDef, ...]
    scopes: dict[str, str]
    deadlines: dict[str, DeadlineDef]
    form: str
    checklists: dict[str, str]
    editable: tuple[str, ...]
    digest: str
    raw: dict[str, Any] = field(repr=False, compare=False)
    # The programme's own words (seed sections named in the file): who runs it, what the award is called.
    authority: dict[str, str] = field(default_factory=dict)  # name, short; reviewer, reviewer_short (if another body)
    terms: dict[str, str] = field(default_factory=dict)  # award: 支持 or 扶持
    fund: dict[str, str] = field(default_factory=dict)  # name (ends 资金), subprogramme
    window: Window | None = None
    local_settings: tuple[LocalSetting, ...] = ()
    # role -> the state from which on the role sees the programme's applications (see reach_of).
    visible_from: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.code}@{self.version}"

    @property
    def triggers(self) -> list[str]:
        return list(dict.fromkeys(t.trigger for t in self.transitions))

    def transition(self, trigger: str, state: str) -> TransitionDef | None:
        for t in self.transitions:
            if t.trigger == trigger and state in t.sources:
                return t
        return None

    def from_state(self, state: str) -> list[TransitionDef]:
        return [t for t in self.transitions if state in t.sources]

    def roles_for(self, trigger: str) -> set[str]:
        return {r for t in self.transitions if t.trigger == trigger for r in t.roles}

    def visibility_of(self, trigger: str | None, source: str | None) -> str:
        """To whom the transition `trigger` from `source` was addressed (VISIBILITIES)."""
        found = self.transition(trigger or "", source or "")
        if found is None:  # not a transition of this version: keep it from the applicant
            found = next((t for t in self.transitions if t.trigger == trigger), None)
        return found.visibility if found is not None else "hidden"

    @property
    def addressed_triggers(self) -> frozenset[str]:
        """Triggers whose comment and payload go to the applicant (from every source)."""
        return frozenset(
            t.trigger
            for t in self.transitions
            if all(o.visibility == "applicant" for o in self.transitions if o.trigger == t.trigger)
        )

    def reach_of(self, role: str) -> tuple[frozenset[str], frozenset[str], str] | None:
        """None if `role` sees the applications in every state its scope allows; else (always, if_passed,
        entry): the states only reached through `entry` (entry included), and those reachable from it but also by
        other paths (archived), in which the role sees an application only if it has passed through `entry`."""
        entry = self.visible_from.get(role)
        if entry is None:
            return None
        after = reachable_states(entry, self.transitions)
        detour = tuple(t for t in self.transitions if entry not in t.sources and t.dest != entry)
        around = reachable_states(self.initial, detour) if self.initial != entry else set()
        always = frozenset(s for s in after if s not in around)
        return always, frozenset(after - always), entry

    def state_label(self, state: str | None, lang: str = "zh") -> str:
        if state is None or state not in self.states:
            return state or ""
        label = self.states[state].label
        return label.get(lang) or label.get("en") or state

    def trigger_label(self, trigger: str, lang: str = "zh") -> str:
        for t in self.transitions:
            if t.trigger == trigger and t.label:
                return t.label.get(lang) or t.label.get("en") or trigger
        return trigger


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest_of(raw: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(raw)).hexdigest()


def _strs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def parse(raw: dict[str, Any], source: str = "<definition>") -> Definition:
    """Build a Definition from plain data, or raise DefinitionError listing every problem."""
    problems: list[str] = []
    for key in ("code", "version", "initial", "states", "transitions"):
        if key not in raw:
            problems.append(f"missing key '{key}'")
    if problems:
        raise DefinitionError(source, problems)

    states = {
        name: StateDef(name=name, label=dict(spec.get("label", {})), terminal=bool(spec.get("terminal", False)))
        for name, spec in raw["states"].items()
    }
    transitions = []
    for i, spec in enumerate(raw["transitions"]):
        where = f"transition #{i + 1} ({spec.get('trigger', '?')})"
        if "trigger" not in spec or "dest" not in spec or "source" not in spec:
            problems.append(f"{where}: needs trigger, source and dest")
            continue
        t = TransitionDef(
            trigger=spec["trigger"],
            sources=_strs(spec["source"]),
            dest=spec["dest"],
            roles=_strs(spec.get("roles")),
            requires=_strs(spec.get("requires")),
            accepts=_strs(spec.get("accepts")),
            guards=_strs(spec.get("guards")),
            rules=_strs(spec.get("rules")),
            effects=_strs(spec.get("effects")),
            label=dict(spec.get("label", {})),
            submits=bool(spec.get("submits", False)),
            visibility=str(spec.get("visibility") or default_visibility(spec["trigger"], _strs(spec.get("roles")))),
        )
        transitions.append(t)
        if t.visibility not in VISIBILITIES:
            problems.append(f"{where}: visibility '{t.visibility}' is not one of {', '.join(VISIBILITIES)}")
        if t.trigger.startswith("to_"):
            problems.append(f"{where}: trigger names starting 'to_' are reserved (no shortcuts)")
        for s in (*t.sources, t.dest):
            if s not in states:
                problems.append(f"{where}: unknown state '{s}'")
        if not t.roles:
            problems.append(f"{where}: no role may fire it")
        for r in t.roles:
            if r not in ROLES and r != SYSTEM_ROLE:
                problems.append(f"{where}: unknown role '{r}'")

    # One transition per (trigger, source): the engine must know which roles and guards apply.
    seen: dict[tuple[str, str], int] = {}
    for i, t in enumerate(transitions):
        for s in t.sources:
            if (t.trigger, s) in seen:
                problems.append(f"trigger '{t.trigger}' is defined twice from state '{s}'")
            seen[(t.trigger, s)] = i

    initial = raw["initial"]
    states = _in_flow_order(states, initial, transitions)
    if initial not in states:
        problems.append(f"initial state '{initial}' is not a state")
    for name, st in states.items():
        outgoing = [t for t in transitions if name in t.sources]
        if st.terminal and outgoing:
            problems.append(f"terminal state '{name}' has a way out ({outgoing[0].trigger})")
        if not st.terminal and not outgoing:
            problems.append(f"state '{name}' has no way out but is not marked terminal")
    reached = reachable_states(initial, transitions)
    for name in states:
        if name not in reached:
            problems.append(f"state '{name}' cannot be reached from '{initial}'")

    scopes = {str(k): str(v) for k, v in raw.get("scopes", {}).items()}
    for role, scope in scopes.items():
        if role not in ROLES:
            problems.append(f"scopes: unknown role '{role}'")
        if scope not in SCOPES:
            problems.append(f"scopes: '{role}' has unknown scope '{scope}' (one of {', '.join(SCOPES)})")
    for t in transitions:
        for r in t.roles:
            if r != SYSTEM_ROLE and r not in scopes:
                problems.append(f"role '{r}' fires '{t.trigger}' but has no scope to see the application")

    deadlines = {}
    for state, spec in raw.get("deadlines", {}).items():
        d = DeadlineDef(
            state=state,
            trigger=spec["trigger"],
            due_from=spec.get("due_from"),
            default_days=int(spec.get("default_days", 10)),
            working_days=bool(spec.get("working_days", False)),
        )
        deadlines[state] = d
        if state not in states:
            problems.append(f"deadline on unknown state '{state}'")
        elif not any(t.trigger == d.trigger and state in t.sources for t in transitions):
            problems.append(f"deadline in '{state}' fires '{d.trigger}', which is not a trigger from there")

    visible_from = _visible_from(raw.get("visible_from"), states, scopes, problems)

    editable = _strs(raw.get("editable", [initial]))
    for state in editable:
        if state not in states:
            problems.append(f"editable: unknown state '{state}'")

    window = _window(raw.get("window"), problems)
    local_settings = []
    for key, spec in raw.get("local_settings", {}).items():
        if not isinstance(spec, dict) or not {"value", "zh", "en"} <= set(spec):
            problems.append(f"local_settings.{key}: needs value, zh and en")
            continue
        local_settings.append(LocalSetting(str(key), str(spec["value"]), str(spec["zh"]), str(spec["en"])))

    if problems:
        raise DefinitionError(source, problems)
    return Definition(
        code=raw["code"],
        version=int(raw["version"]),
        title=dict(raw.get("title", {})),
        applicant_kinds=_strs(raw.get("applicant_kinds")),
        initial=initial,
        states=states,
        transitions=tuple(transitions),
        scopes=scopes,
        deadlines=deadlines,
        form=str(raw.get("form", "")),
        checklists={str(k): str(v) for k, v in raw.get("checklists", {}).items()},
        editable=editable,
        digest=digest_of(raw),
        raw=raw,
        authority={str(k): str(v) for k, v in raw.get("authority", {}).items()},
        terms={str(k): str(v) for k, v in raw.get("terms", {}).items()},
        fund={str(k): str(v) for k, v in raw.get("fund", {}).items()},
        window=window,
        local_settings=tuple(local_settings),
        visible_from=visible_from,
    )


def _visible_from(
    spec: Any, states: dict[str, StateDef], scopes: dict[str, str], problems: list[str]
) -> dict[str, str]:
    """`visible_from = { finance_officer = "funding_review" }`; absent, DEFAULT_VISIBLE_FROM where it applies."""
    if spec is None:
        return {r: s for r, s in DEFAULT_VISIBLE_FROM.items() if r in scopes and s in states}
    if not isinstance(spec, dict):
        problems.append("visible_from: a table of role = state")
        return {}
    out = {str(role): str(state) for role, state in spec.items()}
    for role, state in out.items():
        if role not in scopes:
            problems.append(f"visible_from: role '{role}' has no scope")
        if state not in states:
            problems.append(f"visible_from: unknown state '{state}'")
    return out


def _window(spec: Any, problems: list[str]) -> Window | None:
    """`window = { opens = "2022-08-05", closes = "2022-09-30" }`: ISO dates as strings (the stored JSON keeps them)."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or not ({"opens", "closes"} & set(spec)):
        problems.append("window: needs opens and/or closes (ISO dates)")
        return None
    days: dict[str, dt.date | None] = {}
    for end in ("opens", "closes"):
        value = spec.get(end)
        try:
            days[end] = dt.date.fromisoformat(str(value)) if value is not None else None
        except ValueError:
            problems.append(f"window.{end}: '{value}' is not a date like 2022-09-30")
            return None
    opens, closes = days["opens"], days["closes"]
    if opens and closes and closes < opens:
        problems.append(f"window: closes {closes} before it opens {opens}")
        return None
    return Window(opens, closes)


def _in_flow_order(states: dict[str, StateDef], initial: str, transitions: list[TransitionDef]) -> dict[str, StateDef]:
    """Order states as the flow meets them, so a definition read back from JSONB (keys sorted) looks the same."""
    order = [initial] + [s for t in transitions for s in (*t.sources, t.dest)] + list(states)
    return {name: states[name] for name in dict.fromkeys(order) if name in states}


def reachable_states(initial: str, transitions: tuple[TransitionDef, ...] | list[TransitionDef]) -> set[str]:
    reached = {initial}
    queue = deque([initial])
    while queue:
        state = queue.popleft()
        for t in transitions:
            if state in t.sources and t.dest not in reached:
                reached.add(t.dest)
                queue.append(t.dest)
    return reached


def load_file(path: Path) -> Definition:
    with path.open("rb") as fh:
        return parse(tomllib.load(fh), source=path.name)


def shipped() -> list[Definition]:
    """Every definition file shipped with the code, in file-name order."""
    return [load_file(p) for p in sorted(PROGRAMMES_DIR.glob("*.toml"))]


_cache: dict[str, Definition] = {}


def from_stored(raw: dict[str, Any], digest: str) -> Definition:
    """Parse a stored definition once per digest: versions are immutable, so the digest is the key."""
    found = _cache.get(digest)
    if found is None:
        found = parse(raw, source=f"{raw.get('code')}@{raw.get('version')}")
        _cache[digest] = found
    return found
