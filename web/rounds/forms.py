"""The rounds area's forms: a draft's round settings (fields for the deadlines and checklists the programme has),
a late admission, and the buttons that carry only the CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from workflow.drafts import RoundSettings
from workflow.round_diff import KIND_WORDS


class ButtonForm(FlaskForm):
    """Start a draft, publish it: nothing but the CSRF token."""


class LateAdmissionForm(FlaskForm):
    application_id = IntegerField(
        _l("Number of the application"),
        validators=[InputRequired(), NumberRange(min=1)],
        render_kw={"inputmode": "numeric"},
    )
    # Required by the operation itself, which says so in the domain's words (and refuses blanks).
    reason = TextAreaField(_l("Reason for admitting it late"), validators=[Optional(), Length(max=2000)])


class DraftForm(FlaskForm):
    opens = DateField(_l("Applications open"), validators=[Optional()])
    closes = DateField(_l("Applications close"), validators=[Optional()])
    special_audit_from_wan = DecimalField(
        _l("Special audit report from a total investment of (万元)"), places=None, validators=[Optional()]
    )
    award_rate = DecimalField(_l("Award rule: rate (more than 0, at most 1)"), places=None, validators=[Optional()])
    award_cap_yuan = DecimalField(_l("Award rule: cap per project (yuan)"), places=None, validators=[Optional()])
    award_rounding = SelectField(
        _l("Award rule: rounding to the yuan"),
        choices=[SelectChoice("down", _l("Rounded down")), SelectChoice("half_up", _l("Rounded half up"))],
    )
    budget_year = IntegerField(_l("Budget year"), validators=[Optional()])
    budget_amount = DecimalField(_l("Budget (yuan)"), places=None, validators=[Optional()])


def draft_form(
    settings: RoundSettings,
    state_words: dict[str, tuple[str, bool]],
    checklist_refs: list[str],
    has_threshold: bool,
    has_award: bool,
    has_window: bool,
) -> DraftForm:
    """The edit form of a draft: one field per deadline the programme has and per applicant kind's checklist; a
    posted form reads the request (Flask-WTF), else it shows the draft's settings."""

    class Form(DraftForm):
        pass

    for state, (words, working) in state_words.items():
        if working:
            label = _l("Default deadline in “%(state)s” (working days)", state=words)
        else:
            label = _l("Default deadline in “%(state)s” (days)", state=words)
        setattr(Form, f"deadline_{state}", IntegerField(label, validators=[Optional()]))
    for kind, current in settings.checklists.items():
        code = current.partition("@")[0]
        choices = sorted({ref for ref in checklist_refs if ref.partition("@")[0] == code} | {current})
        label = _l("Site checklist (%(kind)s)", kind=KIND_WORDS.get(kind, (kind,))[0])
        setattr(Form, f"checklist_{kind}", SelectField(label, choices=choices))
    data = {
        "opens": settings.opens,
        "closes": settings.closes,
        "special_audit_from_wan": settings.special_audit_from_wan,
        "award_rate": settings.award_rate,
        "award_cap_yuan": settings.award_cap_yuan,
        "award_rounding": settings.award_rounding,
        "budget_year": settings.budget_year,
        "budget_amount": settings.budget_amount,
        **{f"deadline_{state}": days for state, days in settings.deadline_days.items()},
        **{f"checklist_{kind}": ref for kind, ref in settings.checklists.items()},
    }
    form = Form(data=data)
    if not has_threshold:
        del form.special_audit_from_wan
    if not has_award:
        del form.award_rate, form.award_cap_yuan, form.award_rounding
    if not has_window:
        form.opens.description = _l("This programme has no window yet: both days give it one.")
    return form


def settings_from(form: DraftForm) -> RoundSettings:
    """What the form asks for; the operation leaves a value equal to the draft's as it is."""
    data = form.data
    return RoundSettings(
        opens=data.get("opens"),
        closes=data.get("closes"),
        special_audit_from_wan=data.get("special_audit_from_wan"),
        deadline_days={
            k.removeprefix("deadline_"): v for k, v in data.items() if k.startswith("deadline_") and v is not None
        },
        checklists={k.removeprefix("checklist_"): v for k, v in data.items() if k.startswith("checklist_") and v},
        award_rate=data.get("award_rate"),
        award_cap_yuan=data.get("award_cap_yuan"),
        award_rounding=data.get("award_rounding"),
        budget_year=data.get("budget_year"),
        budget_amount=data.get("budget_amount"),
    )
