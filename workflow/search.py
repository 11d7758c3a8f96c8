"""Finding applications by what people know them by (issue 15 item 9): the unit's name or its unified social
credit code, the project's name, the reference number (申报编号, whole or its start), or the application's
number — always added to the one visibility query, so a search never finds what the reader may not see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_

from workflow.accounts import Organisation
from workflow.models import Application

MAX_QUERY = 100


def _escaped(text: str) -> str:
    """`text` for a LIKE pattern, its own % and _ taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere."""
    return f"%{_escaped(text)}%"


def matching(text: str) -> ColumnElement[bool]:
    """Applications whose unit name, USCC, project name, reference number or number matches `text`
    (case-insensitive); a reference matches from its start (EMC-2026-MH finds that district's year)."""
    words = text.strip()[:MAX_QUERY]
    if not words:
        return false()
    pattern = _like(words)
    found: list[ColumnElement[bool]] = [
        Application.project_name.ilike(pattern, escape="\\"),
        Organisation.name.ilike(pattern, escape="\\"),
        Organisation.uscc == words.upper(),
        Application.reference.ilike(f"{_escaped(words)}%", escape="\\"),
    ]
    number = words.removeprefix("#").removeprefix("＃")
    if number.isdigit() and len(number) < 12:
        found.append(Application.id == int(number))
    return or_(*found)


def search(query: Select[Any], text: str) -> Select[Any]:
    """`query` (a visible_applications select) narrowed to the applications `text` finds."""
    return query.join(Organisation, Organisation.id == Application.organisation_id).where(matching(text))
