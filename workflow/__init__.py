"""The engine: programmes as data, one shared state machine per version, fire(), the audit chain."""

from workflow import guards  # noqa: F401  (registers the stage-free guards and rules)
from workflow.accounts import SYSTEM, Organisation, User
from workflow.engine import FireResult, allowed_triggers, fire
from workflow.errors import (
    Forbidden,
    GuardFailed,
    InvalidInput,
    NotAllowedNow,
    NotFound,
    StaleVersion,
    WorkflowError,
)
from workflow.models import Application

__all__ = [
    "SYSTEM",
    "Application",
    "FireResult",
    "Forbidden",
    "GuardFailed",
    "InvalidInput",
    "NotAllowedNow",
    "NotFound",
    "Organisation",
    "StaleVersion",
    "User",
    "WorkflowError",
    "allowed_triggers",
    "fire",
]
