"""The SQL statements a piece of code sends, counted at the engine (a budget a change must not quietly grow)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event

from workflow.db import db

T = TypeVar("T")


def selects_during(call: Callable[[], T]) -> tuple[T, list[str]]:
    """What the call returns, and the SELECT statements it sent."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append(" ".join(statement.split()))

    assert db.engine is not None
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        return call(), sent
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
