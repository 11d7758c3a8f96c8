"""Importing this registers the form's guard with the engine (to be named by `submit` and `resubmit`)."""

from __future__ import annotations

from collections.abc import Iterator

from forms.fields import form_version
from forms.rules import validate
from workflow.definitions import Definition
from workflow.errors import Problem
from workflow.registry import Context, draft_check, guard

SHOWN_UNKNOWN = 20  # a body of 5,000 unknown keys is refused naming the first of them and counting the rest


@guard("application_form_complete")
def application_form_complete(ctx: Context) -> Iterator[Problem]:
    """The whole rule set of the programme's form version, against the application's form as it stands."""
    form = form_version(ctx.definition.form)
    yield from validate(form, ctx.application.kind, ctx.application.form, complete=True, lang="zh")


@draft_check
def known_fields(definition: Definition, kind: str, changes: dict[str, object]) -> Iterator[Problem]:
    """Only the fields the form version has for this kind of applicant may be stored: nothing else, of any size."""
    form = form_version(definition.form)
    known = {f.key for f in form.fields_for(kind)}
    unknown = [key for key in changes if key not in known]
    for key in unknown[:SHOWN_UNKNOWN]:
        yield Problem(f"form.{key}", "unknown_field", f"'{key}' is not a field of {form.label} for a {kind}")
    if len(unknown) > SHOWN_UNKNOWN:
        more = len(unknown) - SHOWN_UNKNOWN
        yield Problem("form", "unknown_field", f"and {more} more keys that are not fields of {form.label}")
