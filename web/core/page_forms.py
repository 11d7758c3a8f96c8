"""Forms of the HTML pages: login, logout, a new application, and one form per workflow trigger."""

from __future__ import annotations

import re
from typing import Any

from flask import g, has_request_context, request
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from applications.models import CATEGORIES, category_label
from forms.fields import FORMS
from review.completeness import STATUSES
from review.prereview import CHECKS, FINDINGS
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
    "not_checked": N_("%(item)s was not checked: passing needs every check done."),
    "problem_found": N_("%(item)s was found wanting: return the application for correction, or reject it."),
    "invalid_status": N_("Mark %(item)s as present, missing or insufficient."),
}

# Keys of the application forms: their problems carry their own wording (forms.rules).
FORM_FIELDS = frozenset(f.key for form in FORMS.values() for f in form.fields)

# Payload fields a transition may require, in the words a person reads.
FIELD_LABELS = {
    "comment": _l("Comment"),
    "items": _l("Materials to supply (one per line)"),
    "due_date": _l("Supply by"),
    "answers": _l("Answers"),
    "amount": _l("Amount (yuan)"),  # the action names the award in the programme's word (支持 or 扶持)
    "payment_reference": _l("Payment reference"),
    "value_date": _l("Value date"),
    "checks": _l("Checks"),
    "opinion": _l("Opinion"),
    "points": _l("Points to correct, or reasons (one per line)"),
    "return_points": _l("Points to correct (one per line; the applicant answers each)"),
    "documents": _l("Documents"),
    "access_reason": _l("Reason to pass with tier-1 access below 100%"),
}

# A decision that records a review card's findings (effect → card) takes the card's inputs. The card posts one
# form to whichever decision's button was pressed, so its inputs carry the card's name as prefix, not the trigger.
CARD_EFFECTS = {"record_prereview": "prereview", "record_completeness_review": "completeness"}
FINDING_LABELS = {"ok": _l("In order"), "problem": _l("Problem found"), "not_checked": _l("Not checked")}
STATUS_LABELS = {"present": _l("Present"), "missing": _l("Missing"), "insufficient": _l("Insufficient")}
# The payload fields a card's inputs make (a decision requiring one gets the card's inputs, not a text box).
CARD_INPUTS = {"prereview": frozenset({"checks", "opinion", "points"}), "completeness": frozenset({"documents"})}
_ITEM_ID = re.compile(r"[a-z0-9_]{1,64}")

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
    {
        "csrf_token",
        "expected_version",
        "confirm",
        "comment",
        "items",
        "due_date",
        "amount",
        "payment_reference",
        "value_date",
        "opinion",
        "points",
    }
)


class TransitionForm(FlaskForm):
    """Fires one trigger; subclasses built by `transition_form` add the fields the transition requires."""

    # The version the person saw: a change by someone else in between is refused, not overwritten.
    expected_version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    # (field name, supplement item id) for each answer field, in the request's order.
    answer_fields: list[tuple[str, str]] = []  # noqa: RUF012 - replaced per subclass, never mutated
    # The review card whose findings the decision records ("prereview", "completeness"), or None.
    card: str | None = None
    # (field name, check) for each pre-review check; the id of each checklist document (doc_, note_, label_ fields).
    check_fields: list[tuple[str, str]] = []  # noqa: RUF012 - replaced per subclass, never mutated
    doc_fields: list[str] = []  # noqa: RUF012 - replaced per subclass, never mutated
    # A return to the applicant outside a card: it takes the points to correct, one per line (review.returns).
    returns_points: bool = False

    @property
    def from_card(self) -> bool:
        """Posted (or to be rendered) by the card's one form, not as a decision of its own."""
        return self.card is not None and self._prefix == f"{self.card}-"

    def payload(self) -> dict[str, Any]:
        """The engine's payload: stripped text, one list entry per line, ISO dates; empty fields left out."""
        out: dict[str, Any] = {}
        for name in ("comment", "amount", "payment_reference", "opinion", *self.extra_names()):
            if name in self and (self[name].data or "").strip():
                out[name] = self[name].data.strip()
        for name in ("items", "points"):
            if name in self:
                lines = [line.strip() for line in (self[name].data or "").splitlines()]
                if any(lines):
                    out[name] = [line for line in lines if line]
        for name in ("due_date", "value_date"):
            if name in self and self[name].data:
                out[name] = self[name].data.isoformat()
        if self.answer_fields:
            # Empty answers stay in: the guard then names each unanswered item.
            out["answers"] = {item_id: (self[name].data or "").strip() for name, item_id in self.answer_fields}
        if self.check_fields:
            out["checks"] = {check: self[name].data or "not_checked" for name, check in self.check_fields}
        documents = self._documents()
        if documents:
            out["documents"] = documents
        if "comment" in self and "comment" not in out and self.returns_points and out.get("points"):
            out["comment"] = "\n".join(out["points"])  # the points are what the applicant is told
        if "comment" in self and "comment" not in out and self.card == "prereview":
            # The card asks for an opinion and points, not a comment: they are the comment the decision needs.
            told = "\n".join([out.get("opinion", ""), *out.get("points", [])]).strip()
            if told:
                out["comment"] = told
        if "items" in self and "items" not in out and self.doc_fields:
            # Left empty, the request names every document marked missing or insufficient (with its note).
            out["items"] = [
                {"id": item_id, "text": self._doc_text(item_id, entry["note"])}
                for item_id, entry in documents.items()
                if entry["status"] in ("missing", "insufficient")
            ]
            if not out["items"]:
                del out["items"]
        return out

    def _documents(self) -> dict[str, dict[str, str]]:
        documents: dict[str, dict[str, str]] = {}
        for item_id in self.doc_fields:
            status = self[f"doc_{item_id}"].data
            if status:  # not marked: the record takes what is on file
                documents[item_id] = {"status": status, "note": (self[f"note_{item_id}"].data or "").strip()}
        return documents

    def _doc_text(self, item_id: str, note: str) -> str:
        label = (self[f"label_{item_id}"].data or "").strip() or category_label(item_id)
        return f"{label}：{note}" if note else label

    def extra_names(self) -> list[str]:
        """Text fields for required names this page has no special input for (a later programme's)."""
        own = {name for name, _ in self.answer_fields} | {name for name, _ in self.check_fields}
        own |= {f"{kind}_{item_id}" for item_id in self.doc_fields for kind in ("doc", "note", "label")}
        return [f.short_name for f in self if f.short_name not in OWN_FIELDS and f.short_name not in own]

    def field_for(self, problem: Problem) -> Field | None:
        """The input a guard's problem is about (`items[0]` → items, `answers.2` → that item's answer)."""
        head = problem.field.split("[", 1)[0]
        base, _, rest = head.partition(".")
        item = rest.split(".", 1)[0]
        if base == "answers" and self.answer_fields:
            for name, item_id in self.answer_fields:
                if item_id == item:
                    return self[name]
            return self[self.answer_fields[0][0]]
        if base == "checks" and self.check_fields:
            return self[f"check_{item}"] if f"check_{item}" in self else self[self.check_fields[0][0]]
        if base == "documents" and f"doc_{item}" in self:
            return self[f"doc_{item}"]
        if f"doc_{base}" in self:  # a required document missing: the guard names its category
            return self[f"doc_{base}"]
        if base == "comment" and self.card == "prereview" and self.from_card and "points" in self:
            return self["points"]
        return self[base] if base in self and base != "expected_version" else None

    def show_problems(self, problems: list[Problem]) -> list[str]:
        """Put each problem's text beside its input; returns the texts, in order, for the flash message."""
        texts = []
        for problem in problems:
            if problem.field == "comment" and self.card == "prereview" and self.from_card:
                # On the card the comment is made of the opinion and the points; ask for those.
                problem = Problem("points", problem.code, problem.message)
            text = problem_text(problem)
            texts.append(text)
            field = self.field_for(problem)
            if field is not None:
                field.errors = [*field.errors, text]
        return texts


def _in_lang(zh: str, en: str) -> str:
    return en if str(get_locale()) == "en" else zh


def problem_text(problem: Problem) -> str:
    """A guard's problem in the reader's language."""
    field = problem.field.split("[", 1)[0].split(".", 1)[0]
    template = PROBLEM_MESSAGES.get(problem.code)
    if template is None or field in FORM_FIELDS:
        # The application form's rules already write for a person, with the field's label and the numbers.
        return problem.message
    return gettext(template, field=str(FIELD_LABELS.get(field, field)), item=_item_label(problem))


def _item_label(problem: Problem) -> str:
    """The item a problem names, as a person reads it: a check's or a document's name, else the raw key."""
    base, _, rest = problem.field.split("[", 1)[0].partition(".")
    item = rest.split(".", 1)[0]
    if base == "checks" and item in CHECKS:
        return _in_lang(*CHECKS[item])
    if base == "documents" and item in CATEGORIES:
        return _in_lang(*CATEGORIES[item])
    return rest


def _field(name: str) -> Field:
    label = FIELD_LABELS.get(name, name)
    if name == "comment":
        return TextAreaField(label, render_kw={"rows": 3, "required": True, "maxlength": 4000})
    if name == "items":
        return TextAreaField(label, render_kw={"rows": 4, "required": True})
    if name in ("due_date", "value_date"):
        return DateField(label, validators=[Optional()], render_kw={"required": True})
    if name == "amount":
        return StringField(label, render_kw={"inputmode": "decimal", "required": True, "autocomplete": "off"})
    # payment_reference, and any field a later programme version requires: one line of text.
    return StringField(label, render_kw={"required": True, "autocomplete": "off"})


def card_of(transition: TransitionDef | None) -> str | None:
    """The review card whose findings this decision records, or None for a decision of its own."""
    for ref in transition.effects if transition else ():
        card = CARD_EFFECTS.get(ref.split(":", 1)[0])
        if card:
            return card
    return None


def _posting(prefix: str) -> bool:
    return has_request_context() and request.method == "POST" and f"{prefix}-expected_version" in request.form


def _posted_items(prefix: str) -> list[str]:
    """The checklist items a card's form posted (the transition view parses it without loading the checklist)."""
    start = f"{prefix}-doc_"
    ids = [key[len(start) :] for key in request.form if key.startswith(start)] if _posting(prefix) else []
    return [item_id for item_id in ids if _ITEM_ID.fullmatch(item_id)]


def transition_form(
    trigger: str,
    transition: TransitionDef | None,
    open_items: list[dict[str, str]] | None = None,
    *,
    checklist: list[dict[str, Any]] | None = None,
    prefix: str | None = None,
    returning: bool = False,
    **kwargs: Any,
) -> TransitionForm:
    """A form for `trigger` with an input for each field the transition requires, and an answer for each of
    `open_items` (a supplement request's items, or the points of the return a resubmission answers).

    A decision that records a review card's findings also takes the card's inputs (the pre-review checks, opinion
    and points; each document's status and note from `checklist`); posted from the card, its prefix is the card's.
    Without a transition (not possible from this state) the form carries the version alone and the engine says why.
    `returning`: the decision returns the application to the applicant, so it lists the points to correct.
    """
    form = _build(trigger, [transition] if transition else [], open_items, checklist, prefix, returning, **kwargs)
    if "formdata" not in kwargs and has_request_context() and request.method == "POST":
        g.posted_transition_form = form  # a card shows it again, with the reasons, if the decision is refused
    return form


def card_form(
    card: str, transitions: list[TransitionDef], checklist: list[dict[str, Any]] | None = None, **kwargs: Any
) -> TransitionForm:
    """The card's one form: every input of its decisions (`transitions`), each decision a button posting it."""
    return _build(card, transitions, None, checklist, card, **kwargs)


def posted_card_form(card: str) -> TransitionForm | None:
    """The form the card posted in this request (with the person's input and the reasons it was refused), if any."""
    form = g.get("posted_transition_form") if has_request_context() else None
    return form if isinstance(form, TransitionForm) and form.card == card and form.from_card else None


def _build(
    trigger: str,
    transitions: list[TransitionDef],
    open_items: list[dict[str, str]] | None,
    checklist: list[dict[str, Any]] | None,
    prefix: str | None,
    returning: bool = False,
    **kwargs: Any,
) -> TransitionForm:
    """One form class for the inputs of `transitions` (one decision, or all of a card's), bound once."""

    class Form(TransitionForm):
        pass

    card = next((c for c in map(card_of, transitions) if c), None)
    if prefix is None:
        # The trigger as prefix keeps ids unique when several forms share a page; a card's form posts its own.
        prefix = card if card and _posting(card) else trigger
    answer_fields: list[tuple[str, str]] = []
    names = list(dict.fromkeys(name for t in transitions for name in t.requires))
    for name in names:
        if name in CARD_INPUTS.get(card or "", ()):
            continue  # the card's own inputs below make it
        if name != "answers":  # one answer per open item, below
            setattr(Form, name, _field(name))
    for n, item in enumerate(open_items or []):
        field_name = f"answer_{n}"
        # Left empty, the engine's guard names each unanswered item beside its box.
        answer = TextAreaField(item["text"], render_kw={"rows": 2, "required": True, "maxlength": 4000})
        setattr(Form, field_name, answer)
        answer_fields.append((field_name, item["id"]))
    returns_points = returning and card is None and "points" not in names
    if returns_points:
        # Optional beside the comment: listed, the points are what the applicant answers; else the comment is one.
        Form.points = TextAreaField(FIELD_LABELS["return_points"], render_kw={"rows": 4, "maxlength": 4000})
        if "comment" in names:
            Form.comment = TextAreaField(FIELD_LABELS["comment"], render_kw={"rows": 3, "maxlength": 4000})
    for name in dict.fromkeys(name for t in transitions for name in t.accepts):
        if name not in names:  # optional: a guard accepts it instead of a fact (the reason, when access falls short)
            label = FIELD_LABELS.get(name, name)
            setattr(Form, name, TextAreaField(label, validators=[Optional()], render_kw={"rows": 2, "maxlength": 4000}))
    if "due_date" not in names and any("open_supplement_request" in t.effects for t in transitions):
        # Optional: without a date the programme's default applies (e.g. 10 working days).
        Form.due_date = DateField(FIELD_LABELS["due_date"], validators=[Optional()])
    check_fields: list[tuple[str, str]] = []
    doc_fields: list[str] = []
    if card == "prereview":
        findings = [SelectChoice(f, FINDING_LABELS[f]) for f in FINDINGS]
        for check, (zh, en) in CHECKS.items():
            name = f"check_{check}"
            setattr(Form, name, RadioField(_in_lang(zh, en), choices=findings, default="not_checked"))
            check_fields.append((name, check))
        for name, rows in (("opinion", 3), ("points", 4)):
            setattr(Form, name, TextAreaField(FIELD_LABELS[name], render_kw={"rows": rows, "maxlength": 4000}))
    elif card == "completeness":
        statuses = [SelectChoice(s, STATUS_LABELS[s]) for s in STATUSES]
        items = (
            [(i["id"], _in_lang(i["text"], i["text_en"]), i["text"], i["present"]) for i in checklist]
            if checklist is not None
            else [(item_id, item_id, "", None) for item_id in _posted_items(prefix)]
        )
        for item_id, label, text, present in items:
            default = None if present is None else ("present" if present else "missing")
            setattr(Form, f"doc_{item_id}", RadioField(label, choices=statuses, default=default, validate_choice=False))
            setattr(Form, f"note_{item_id}", StringField(_l("Note"), render_kw={"maxlength": 500}))
            setattr(Form, f"label_{item_id}", HiddenField(default=text))
            doc_fields.append(item_id)
    if trigger in CONFIRMATIONS:
        Form.confirm = BooleanField(CONFIRMATIONS[trigger], validators=[DataRequired()])
    Form.answer_fields = answer_fields
    Form.returns_points = returns_points
    Form.card = card
    Form.check_fields = check_fields
    Form.doc_fields = doc_fields
    return Form(prefix=prefix, **kwargs)
