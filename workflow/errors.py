"""The few ways a command can fail, each with a message that says what to do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One reason a guard refused: which field, which rule, and in words."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class WorkflowError(Exception):
    status = 400
    code = "workflow_error"
    title = "Workflow error"

    def __init__(self, detail: str, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, **self.extra}


class NotFound(WorkflowError):
    """Does not exist, or the actor may not see it: the two are indistinguishable on purpose."""

    status = 404
    code = "not_found"
    title = "Not found"


class Forbidden(WorkflowError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotAllowedNow(WorkflowError):
    status = 409
    code = "not_allowed_in_state"
    title = "Not allowed in this state"

    def __init__(self, detail: str, state: str, allowed_triggers: list[str]):
        super().__init__(detail, state=state, allowed_triggers=allowed_triggers)
        self.state = state
        self.allowed_triggers = allowed_triggers


class StaleVersion(WorkflowError):
    status = 409
    code = "stale_version"
    title = "Stale version"

    def __init__(self, detail: str, expected: int, current: int):
        super().__init__(detail, expected_version=expected, current_version=current)
        self.expected = expected
        self.current = current


class ProblemsError(WorkflowError):
    """An error that names each field, code and reason (`errors` in the problem document)."""

    def __init__(self, detail: str, problems: list[Problem]):
        super().__init__(detail, errors=[p.as_dict() for p in problems])
        self.problems = problems


class GuardFailed(ProblemsError):
    status = 422
    code = "guard_failed"
    title = "Conditions not met"


class IdempotencyConflict(WorkflowError):
    status = 422
    code = "idempotency_key_reused"
    title = "Idempotency key reused"


class InvalidInput(ProblemsError):
    """Input that breaks a rule, with each field named (answered 422)."""

    status = 422
    code = "invalid_input"
    title = "Invalid input"
