"""Importing this registers the form's guard with the engine (to be named by `submit` and `resubmit`)."""

from __future__ import annotations

from collections.abc import Iterator

from forms.fields import form_version
from forms.rules import validate
from workflow.errors import Problem
from workflow.registry import Context, guard


@guard("application_form_complete")
def application_form_complete(ctx: Context) -> Iterator[Problem]:
    """The whole rule set of the programme's form version, against the application's form as it stands."""
    form = form_version(ctx.definition.form)
    yield from validate(form, ctx.application.kind, ctx.application.form, complete=True, lang="zh")
