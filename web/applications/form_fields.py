"""WTForms classes built from a form version, one per programme version and applicant kind (for the pages).

They only render and collect; `forms.rules` decides what is right, so the pages and the API judge alike.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import Field as WTField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from forms import fields as F
from forms.checker import MAX_DIGITS
from forms.fields import FormVersion
from workflow.accounts import DISTRICTS


def _fields(form: FormVersion, kind: str, keys: Collection[str] | None) -> list[F.Field]:
    return [f for f in form.fields_for(kind) if keys is None or f.key in keys]


class CheckboxesField(SelectMultipleField):
    """Several of a field's choices, as a list of checkboxes (a phone shows them one per line)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:  # forms.rules judges the values, not WTForms
        pass


def _field(f: F.Field, label: str, lang: str) -> WTField:
    choices = [SelectChoice(key, en if lang == "en" else zh) for key, zh, en in f.choices]
    if f.type == F.CHOICE:
        return SelectField(label, choices=[SelectChoice("", "—"), *choices], validate_choice=False)
    if f.type == F.CHOICES:
        return CheckboxesField(label, choices=choices)
    if f.type in (F.PERCENT, F.NUMBER):
        return StringField(label, render_kw={"inputmode": "decimal"})
    if f.type == F.LONG_TEXT:
        return TextAreaField(label, render_kw={"rows": 5, "maxlength": f.max_length})
    if f.type == F.FLAG:
        return BooleanField(label)
    if f.type == F.DISTRICT:
        return SelectField(label, choices=[SelectChoice("", "—"), *(SelectChoice(d, d) for d in DISTRICTS)])
    if f.type == F.DATE:
        return StringField(label, render_kw={"type": "date"})
    if f.type == F.COUNT:
        return StringField(label, render_kw={"inputmode": "numeric", "pattern": r"\d*"})
    if f.type in (F.MONEY, F.ENERGY):
        return StringField(label, render_kw={"inputmode": "decimal"})
    if f.type == F.PHONE:
        return StringField(label, render_kw={"type": "tel", "maxlength": 30})
    return StringField(label, render_kw={"maxlength": f.max_length})


def form_class(form: FormVersion, kind: str, lang: str = "zh", keys: Collection[str] | None = None) -> type[FlaskForm]:
    """The page's form: every field of the kind, or only `keys` (one section)."""
    optional = " (optional)" if lang == "en" else "（选填）"
    attrs: dict[str, Any] = {}
    for f in _fields(form, kind, keys):
        label = f.en if lang == "en" else f.zh
        attrs[f.key] = _field(f, label if f.required else label + optional, lang)
    attrs["expected_version"] = HiddenField()
    return type("ApplicationForm", (FlaskForm,), attrs)


def to_form_data(
    form: FormVersion, kind: str, submitted: FlaskForm, keys: Collection[str] | None = None
) -> dict[str, Any]:
    """What the page sent, as the form's JSON (None removes a field); typing mistakes are kept for the rules.

    With `keys` (one section's page) only those fields, so a merge leaves the other sections as they were."""
    data: dict[str, Any] = {}
    for f in _fields(form, kind, keys):
        raw = getattr(submitted, f.key).data
        if f.type == F.FLAG:
            data[f.key] = bool(raw)
        elif f.type == F.CHOICES:
            order = [key for key, _, _ in f.choices]  # the field's order, whatever order they were ticked in
            data[f.key] = sorted(raw or [], key=lambda v: order.index(v) if v in order else len(order)) or None
        elif raw is None or (isinstance(raw, str) and not raw.strip()):
            data[f.key] = None
        elif f.type == F.COUNT and str(raw).strip().isdigit() and len(str(raw).strip()) <= MAX_DIGITS:
            data[f.key] = int(str(raw).strip())
        else:
            data[f.key] = str(raw).strip()
    return data


def from_form_data(
    form: FormVersion, kind: str, stored: dict[str, Any], keys: Collection[str] | None = None
) -> dict[str, Any]:
    """The stored JSON as the page's fields show it."""
    out: dict[str, Any] = {}
    for f in _fields(form, kind, keys):
        value = stored.get(f.key)
        if f.type == F.FLAG:
            out[f.key] = bool(value)
        elif f.type == F.CHOICES:
            out[f.key] = list(value) if isinstance(value, list) else []
        else:
            out[f.key] = "" if value is None else str(value)
    return out
