"""Forms of the HTML pages: login, logout, a new application, and one form per workflow trigger."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, Field, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from forms.fields import FORMS
from workflow.definitions import TransitionDef
from workflow.errors import Problem


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is used (babel's default keyword)."""
    return message


# The engine's problem codes in the reader's language; a code not listed shows the engine's own message.
PROBLEM_MESSAGES = {
    "required": N_("Please fill in: %(field)s."),
    "empty": N_("List at least one material to supply."),
    "invalid_date": N_("Enter a date such as 2026-12-31."),
    "not_in_future": N_("The date must be after today."),
    "no_open_request": N_("There is no open supplement request to answer."),
    "unanswered": N_("Answer item %(item)s."),
    "not_a_number": N_("The amount must be a number of yuan."),
    "not_positive": N_("The amount must be more than 0 yuan."),
    "too_precise": N_("The amount has at most two decimals (fen)."),
    "not_allowed": N_("This kind of applicant may not apply to this programme."),
    "four_eyes": N_("A second officer must do this: whoever proposed the award may not also decide on it."),
}

# Keys of the application forms: their problems carry their own wording (forms.rules).
FORM_FIELDS = frozenset(f.key for form in FORMS.values() for f in form.fields)

# Payload fields a transition may require, in the words a person reads.
FIELD_LABELS = {
    "comment": _l("Comment"),
    "items": _l("Materials to supply (one per line)"),
    "due_date": _l("Supply by"),
    "answers": _l("Answers"),
    "amount": _l("Award amount (yuan)"),
    "payment_reference": _l("Payment reference"),
}

# Triggers that cannot be undone and sit one tap away on a phone: the page asks to tick a box first.
CONFIRMATIONS = {
    "withdraw": _l("Yes, withdraw this application. This cannot be undone."),
}


class LoginForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=1024)], render_kw={"autocomplete": "current-password"}
    )


class LogoutForm(FlaskForm):
    """Nothing but the CSRF token: logging out is a POST, so no other site can log a user out."""


class NewApplicationForm(FlaskForm):
    programme = SelectField(_l("Programme"), validators=[InputRequired()])
    kind = SelectField(_l("Applicant kind"), validators=[InputRequired()])
    project_name = StringField(_l("Project name"), validators=[DataRequired(), Length(max=300)])


# Fields with their own handling in TransitionForm.payload (or none: they are not payload).
OWN_FIELDS = frozenset(
    {"csrf_token", "expected_version", "confirm", "comment", "items", "due_date", "amount", "payment_reference"}
)


class TransitionForm(FlaskForm):
    """Fires one trigger; subclasses built by `transition_form` add the fields the transition requires."""

    # The version the person saw: a change by someone else in between is refused, not overwritten.
    expected_version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    # (field name, supplement item id) for each answer field, in the request's order.
    answer_fields: list[tuple[str, str]] = []  # noqa: RUF012 - replaced per subclass, never mutated

    def payload(self) -> dict[str, Any]:
        """The engine's payload: stripped text, one list entry per line, ISO dates; empty fields left out."""
        out: dict[str, Any] = {}
        for name in ("comment", "amount", "payment_reference", *self.extra_names()):
            if name in self and (self[name].data or "").strip():
                out[name] = self[name].data.strip()
        if "items" in self:
            lines = [line.strip() for line in (self["items"].data or "").splitlines()]
            if any(lines):
                out["items"] = [line for line in lines if line]
        if "due_date" in self and self["due_date"].data:
            out["due_date"] = self["due_date"].data.isoformat()
        if self.answer_fields:
            # Empty answers stay in: the guard then names each unanswered item.
            out["answers"] = {item_id: (self[name].data or "").strip() for name, item_id in self.answer_fields}
        return out

    def extra_names(self) -> list[str]:
        """Text fields for required names this page has no special input for (a later programme's)."""
        answers = {name for name, _ in self.answer_fields}
        return [f.short_name for f in self if f.short_name not in OWN_FIELDS and f.short_name not in answers]

    def field_for(self, problem: Problem) -> Field | None:
        """The input a guard's problem is about (`items[0]` → items, `answers.2` → that item's answer)."""
        base = problem.field.split("[", 1)[0].split(".", 1)[0]
        if base == "answers" and self.answer_fields:
            wanted = problem.field.partition(".")[2]
            for name, item_id in self.answer_fields:
                if item_id == wanted:
                    return self[name]
            return self[self.answer_fields[0][0]]
        return self[base] if base in self and base != "expected_version" else None

    def show_problems(self, problems: list[Problem]) -> list[str]:
        """Put each problem's text beside its input; returns the texts, in order, for the flash message."""
        texts = []
        for problem in problems:
            text = problem_text(problem)
            texts.append(text)
            field = self.field_for(problem)
            if field is not None:
                field.errors = [*field.errors, text]
        return texts


def problem_text(problem: Problem) -> str:
    """A guard's problem in the reader's language."""
    field = problem.field.split("[", 1)[0].split(".", 1)[0]
    template = PROBLEM_MESSAGES.get(problem.code)
    if template is None or field in FORM_FIELDS:
        # The application form's rules already write for a person, with the field's label and the numbers.
        return problem.message
    return gettext(template, field=str(FIELD_LABELS.get(field, field)), item=problem.field.partition(".")[2])


def _field(name: str) -> Field:
    label = FIELD_LABELS.get(name, name)
    if name == "comment":
        return TextAreaField(label, render_kw={"rows": 3, "required": True, "maxlength": 4000})
    if name == "items":
        return TextAreaField(label, render_kw={"rows": 4, "required": True})
    if name == "due_date":
        return DateField(label, validators=[Optional()], render_kw={"required": True})
    if name == "amount":
        return StringField(label, render_kw={"inputmode": "decimal", "required": True, "autocomplete": "off"})
    # payment_reference, and any field a later programme version requires: one line of text.
    return StringField(label, render_kw={"required": True, "autocomplete": "off"})


def transition_form(
    trigger: str, transition: TransitionDef | None, open_items: list[dict[str, str]] | None = None, **kwargs: Any
) -> TransitionForm:
    """A form for `trigger` with an input for each field the transition requires (one per open supplement item).

    Without a transition (not possible from this state) the form carries the version alone and the engine says why.
    """

    class Form(TransitionForm):
        pass

    answer_fields: list[tuple[str, str]] = []
    for name in transition.requires if transition else ():
        if name == "answers":
            for n, item in enumerate(open_items or []):
                field_name = f"answer_{n}"
                setattr(Form, field_name, TextAreaField(item["text"], render_kw={"rows": 2, "required": True}))
                answer_fields.append((field_name, item["id"]))
        else:
            setattr(Form, name, _field(name))
    if trigger in CONFIRMATIONS:
        Form.confirm = BooleanField(CONFIRMATIONS[trigger], validators=[DataRequired()])
    Form.answer_fields = answer_fields
    # The trigger as prefix keeps ids unique when several forms share a page.
    return Form(prefix=trigger, **kwargs)
