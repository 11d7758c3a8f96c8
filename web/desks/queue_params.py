"""The desk queue's parameters, read alike from the page's and the API's query string."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from review import queues
from workflow.db import db
from workflow.errors import Problem
from workflow.visibility import programme_definitions


def desk_params(args: MultiDict[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    """The queue's filters, sort and page from query parameters, and every one it cannot take."""
    sort = args.get("sort") or "waiting"
    params: dict[str, Any] = {
        "kind": args.get("kind") or None,
        "district": args.get("district") or None,
        "programme": args.get("programme") or None,
        "sort": sort,
        # Longest waiting first; a column A to Z.
        "order": args.get("order") or ("desc" if sort == "waiting" else "asc"),
        "waiting_on": args.get("waiting_on") or "desk",
    }
    problems = []
    for name, default in (("page", 1), ("per_page", 25)):
        raw = args.get(name) or ""
        if not raw:
            params[name] = default
        elif raw.isascii() and raw.isdigit() and len(raw) <= 9:  # int() of 5,000 digits raises; the queue bounds it
            params[name] = int(raw)
        else:
            params[name] = default
            problems.append(Problem(name, "invalid", f"'{name}' is a whole number; got {raw!r}"))
    problems += queues.check_params(programme_definitions(db.session), **params)
    return params, problems
