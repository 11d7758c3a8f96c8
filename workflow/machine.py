"""One `transitions` Machine per definition version, shared by every application under it."""

from __future__ import annotations

from transitions import Machine, MachineError

from workflow.definitions import Definition

_machines: dict[str, Machine] = {}


def machine_for(definition: Definition) -> Machine:
    """Build once per (code, version, digest); never one per application (~2 ms, ~100 KiB each)."""
    key = definition.digest
    machine = _machines.get(key)
    if machine is None:
        machine = Machine(
            model=None,
            states=list(definition.states),
            transitions=[
                {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest} for t in definition.transitions
            ],
            initial=None,
            auto_transitions=False,
            send_event=True,
        )
        _machines[key] = machine
    return machine


def machine_count() -> int:
    return len(_machines)


class _Token:
    """A throwaway stand-in for the row: carries the state through the shared machine."""

    __slots__ = ("state",)

    def __init__(self, state: str):
        self.state = state


def next_state(definition: Definition, state: str, trigger: str) -> str:
    """Run the trigger through the machine from `state` and return where it lands."""
    token = _Token(state)
    try:
        machine_for(definition).events[trigger].trigger(token)
    except (KeyError, MachineError) as exc:
        raise ValueError(f"'{trigger}' cannot fire from '{state}' in {definition.label}") from exc
    return token.state
