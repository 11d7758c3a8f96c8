"""What the panel's pages share: the operations' problems in the reader's language, and the role check."""

from __future__ import annotations

from flask import abort
from flask_babel import gettext
from flask_wtf import FlaskForm

from web.core.actor import me
from web.core.page_forms import N_
from workflow.accounts import User
from workflow.errors import Problem

# The operations' problem codes in the reader's language; a code not listed shows the operation's own message.
MESSAGES = {
    "required": N_("Please fill this in."),
    "too_long": N_("This is too long."),
    "unknown_user": N_("There is no account with this username."),
    "not_expert": N_("This account does not have the Expert role."),
    "inactive": N_("This account is deactivated."),
    "invalid_uscc": N_("This is not a valid unified social credit code (18 characters, the last a check digit)."),
    "unknown_district": N_("Choose a district from the list."),
    "too_many": N_("At most 20 specialities."),
    "out_of_range": N_("Draw at least 1 expert and no more than are eligible now."),
    "empty_pool": N_("No expert is eligible for this application: add experts to the pool first."),
    "invalid": N_("The seed has at most 64 characters."),
    "not_future": N_("The visit must be in the future."),
}


def message(problem: Problem) -> str:
    template = MESSAGES.get(problem.code)
    return gettext(template) if template else problem.message


def show_problems(form: FlaskForm, problems: list[Problem], fields: dict[str, str] | None = None) -> list[str]:
    """Put each problem under its field; returns the messages of those that have no field on the form."""
    loose = []
    for problem in problems:
        name = (fields or {}).get(problem.field, problem.field)
        if name in form:
            form[name].errors = [*form[name].errors, message(problem)]
        else:
            loose.append(message(problem))
    return loose


def forbid_unless(*roles: str) -> User:
    user = me()
    if user.role not in roles:
        abort(403)
    return user
