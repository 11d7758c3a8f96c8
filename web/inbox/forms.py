"""The inbox area's forms: mark read (the CSRF token is all they carry) and the reader's mail settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp

from notifications.kinds import KINDS
from web.inbox.preferences import EMAIL, PHONE

MODE_CHOICES = [
    SelectChoice("immediate", _l("At once")),
    SelectChoice("digest", _l("In the day's digest")),
    SelectChoice("never", _l("Never")),
]


class ReadForm(FlaskForm):
    """Mark read: one, or all."""


class PreferencesForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[Optional(), Length(max=254), Regexp(EMAIL.pattern, message=_l("Not an e-mail address."))],
    )
    language = SelectField(_l("Language of mail"), choices=[SelectChoice("zh", "中文"), SelectChoice("en", "English")])
    phone = StringField(
        _l("Mobile number (for deadline texts)"),
        validators=[Optional(), Regexp(PHONE.pattern, message=_l("Digits, with + and spaces if need be."))],
    )


def with_modes(modes: dict[str, str]) -> type[PreferencesForm]:
    """The settings form with one choice per kind that is not a deadline (deadlines always go at once)."""

    class Form(PreferencesForm):
        pass

    for name, kind in KINDS.items():
        if not kind.deadline:
            setattr(Form, f"mode_{name}", RadioField(kind.zh, choices=MODE_CHOICES, default=modes.get(name)))
    return Form
