"""Importing this registers the attachments guard with the engine (to be named by `submit` and `resubmit`)."""

from __future__ import annotations

from collections.abc import Iterator

from applications.attachments import missing_categories, missing_message
from workflow.errors import Problem
from workflow.registry import Context, guard


@guard("required_attachments")
def required_attachments(ctx: Context) -> Iterator[Problem]:
    """Each category the version's `[attachments]` require of this kind is uploaded (the category is the field)."""
    application = ctx.application
    for category in missing_categories(ctx.session, application, ctx.definition):
        yield Problem(category, "attachment_missing", missing_message(category, application.form, ctx.definition))
