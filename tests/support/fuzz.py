"""schemathesis against /api/v1 in-process: identities with real objects, per-operation and stateful runs.

Shared by tests/integration/core/test_fuzz_openapi.py (bounded) and bench/fuzz.py (long)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import factories
from tests.support.api import bearer

# No 5xx, and every answer is one the document gives: its status, its media type, its headers, its schema.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Roles the fuzz acts as: the owner of the drafts, a reviewer of their district, and the later desks.
ROLES = ("applicant", "district_reviewer", "municipal_reviewer", "agency_coordinator", "expert", "finance_officer")


@dataclass
class World:
    """The objects the fuzz aims at: real application ids and a token per identity (None: anonymous)."""

    app: Any
    cast: factories.Cast
    application_ids: list[int]
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    def headers(self, identity: str) -> dict[str, str]:
        if identity == "anonymous":
            return {}
        if identity not in self.tokens:
            self.tokens[identity] = bearer(self.app.test_client(), self.cast.by_role[identity])
        return self.tokens[identity]

    def forget(self, identity: str) -> None:
        """The token was revoked (DELETE /auth/token): the next call issues a fresh one."""
        self.tokens.pop(identity, None)


def build_world(app: Any) -> World:
    """A cast, a complete draft (the applicant's), one at the district desk and one on its visit day, whose history
    holds the panel's, the visit's and the evidence's events too."""
    from meters import snapshots

    cast = factories.make_cast()
    draft = factories.new_application(cast)
    at_district = factories.new_application(cast, project_name="区级初审中的项目")
    factories.drive_to(cast, at_district, "district_review")
    on_site = factories.on_site_visit_day(cast)
    factories.note_visit_steps(on_site)
    snapshots.request_fresh(cast.agency_coordinator, on_site)
    return World(app, cast, [draft, at_district, on_site])


def load_schema(app: Any) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@dataclass
class Found:
    """What a run found: each failing operation with its message, and how many calls were made."""

    failures: dict[str, str] = field(default_factory=dict)
    calls: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    succeeded: set[str] = field(default_factory=set)  # operations that answered 2xx at least once

    def count(self, case: Any, response: Any) -> None:
        self.calls += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        if 200 <= response.status_code < 300:
            self.succeeded.add(case.operation.label)

    def report(self) -> str:
        return "\n\n".join(f"{label}:\n{message}" for label, message in self.failures.items())


def _call(world: World, case: Any, identity: str, found: Found) -> None:
    response = case.call(headers=world.headers(identity))
    found.count(case, response)
    if case.operation.label == "DELETE /auth/token" and response.status_code == 204:
        world.forget(identity)
    case.validate_response(response, checks=CHECKS)


def _identities() -> st.SearchStrategy[str]:
    # Hypothesis starts from the first element: the applicant, not the anonymous caller every route turns away.
    return st.sampled_from((*ROLES, "anonymous"))


def _cases(operation: Any, world: World) -> st.SearchStrategy[Any]:
    """The operation's cases; where the path names an application, half aim at a real one."""
    names = {p.name for p in operation.path_parameters}
    # Valid input and input the document forbids (wrong types, missing fields, out-of-range values).
    generated = st.one_of(operation.as_strategy(), operation.as_strategy(GenerationMode.NEGATIVE))
    if "application_id" not in names:
        return generated
    aimed = [operation.as_strategy(path_parameters={"application_id": i}) for i in world.application_ids]
    return st.one_of(generated, *aimed)


def run_operations(
    world: World, schema: Any, max_examples: int, only: Callable[[str], bool] = lambda label: True
) -> Found:
    """Each operation on its own: `max_examples` generated cases, each sent as a random identity."""
    found = Found()
    settings = hypothesis.settings(
        max_examples=max_examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is reported as found
        suppress_health_check=list(HealthCheck),
    )
    for result in schema.get_all_operations():
        operation = result.ok()
        if not only(operation.label):
            continue

        @settings
        @given(case=_cases(operation, world), identity=_identities())
        def fuzz(case: Any, identity: str) -> None:
            _call(world, case, identity, found)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # every failure is collected and reported, not only the first
            found.failures[operation.label] = str(exc)[:3000]
    return found


def run_stateful(world: World, schema: Any, max_examples: int, steps: int) -> Found:
    """Scenarios along the links schemathesis infers (the document declares none): a created id is reused."""
    found = Found()
    machine = schema.as_state_machine()

    class Fuzz(machine):  # type: ignore[misc, valid-type]
        identity = "applicant"

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": world.headers(self.identity)}

        def after_call(self, response: Any, case: Any) -> None:
            found.count(case, response)
            if case.operation.label == "DELETE /auth/token" and response.status_code == 204:
                world.forget(self.identity)

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    settings = hypothesis.settings(
        max_examples=max_examples,
        stateful_step_count=steps,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    try:
        Fuzz.run(settings=settings)
    except (Exception, BaseExceptionGroup) as exc:
        found.failures["stateful"] = str(exc)[:3000]
    return found
