"""The engine benchmark's memory probe: live applications held, against one transitions.Machine per application."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
import tracemalloc
from typing import Any

from bench.engine_setup import PROJECT_ROOT, connect
from workflow.db import db
from workflow.engine import allowed_triggers, resolve_actor
from workflow.machine import machine_count, next_state
from workflow.models import Application
from workflow.visibility import programme_definitions, visible_applications

# -- memory: each probe in a fresh interpreter, so memory freed by the setup cannot hide growth --------------------


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def _load(actor_id: int, limit: int) -> tuple[Any, list[Any]]:
    """Live applications as ORM objects, what each allows its reviewer now, and where each trigger lands."""
    session = db.sessionmaker()
    actor = resolve_actor(session, actor_id)
    definitions = programme_definitions(session)
    apps = list(session.scalars(visible_applications(session, actor).order_by(Application.id).limit(limit)))
    allowed = [allowed_triggers(session, app, actor, definitions[app.programme_version_id]) for app in apps]
    # A dry run through the shared machine: where each allowed trigger would take the row (left untouched).
    landing = [
        next_state(definitions[app.programme_version_id], app.state, trigger)
        for app, triggers in zip(apps, allowed, strict=True)
        for trigger in triggers
    ]
    return session, [apps, allowed, landing]


def _machine_kwargs(definition: Any, initial: str | None) -> dict[str, Any]:
    transitions = [{"trigger": t.trigger, "source": list(t.sources), "dest": t.dest} for t in definition.transitions]
    states = list(definition.states)
    return {
        "states": states,
        "transitions": transitions,
        "initial": initial,
        "auto_transitions": False,
        "send_event": True,
    }


def probe(kind: str, url: str, actor_id: int, n: int) -> dict[str, Any]:
    """'live': n applications held; 'machines': on top of n held, one transitions.Machine each (forbidden)."""
    from transitions import Machine

    connect(url)
    _load(actor_id, 10)[0].close()  # warm: imports, compiled-SQL cache, definition cache
    out: dict[str, Any] = {"kind": kind}
    for traced in (False, True):  # RSS first, free of tracemalloc's own overhead; then the Python heap
        gc.collect()
        if traced:
            tracemalloc.start()
        session: Any = None
        held: list[Any] = []
        if kind == "machines":
            session, held = _load(actor_id, n)
        gc.collect()
        rss, heap, start = rss_kib(), tracemalloc.get_traced_memory()[0], time.perf_counter()
        if kind == "live":
            session, held = _load(actor_id, n)
        else:
            definitions = programme_definitions(session)
            apps = held[0]
            kwargs = {app.id: _machine_kwargs(definitions[app.programme_version_id], app.state) for app in apps}
            held.append([Machine(model=app, **kwargs[app.id]) for app in apps])
        seconds = time.perf_counter() - start
        gc.collect()
        if traced:
            out["heap_kib"] = (tracemalloc.get_traced_memory()[0] - heap) / 1024
            tracemalloc.stop()
        else:
            out |= {"rss_kib": rss_kib() - rss, "seconds": seconds}
        out |= {"loaded": len(held[0]), "machines": machine_count(), "sample": held[1][0] if held[1] else []}
        out["versions"] = len({app.programme_version_id for app in held[0]})
        session.rollback()
        session.close()
        del held, session
    return out


def run_probe(kind: str, url: str, actor_id: int, n: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.engine", "--probe", kind, "--database-url", url]
    command += ["--probe-actor", str(actor_id), "--live", str(n)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory probe '{kind}' failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def shared_machine_kib() -> float:
    """The heap of one Machine built as machine_for() builds it (kept out of its cache)."""
    from transitions import Machine

    from workflow import definitions

    definition = next(d for d in definitions.shipped() if d.code == "emc-acceptance")
    gc.collect()
    tracemalloc.start()
    machine = Machine(model=None, **_machine_kwargs(definition, None))
    size = tracemalloc.get_traced_memory()[0] / 1024
    tracemalloc.stop()
    del machine
    return size
