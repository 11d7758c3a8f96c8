"""The detail page of one application, with the cards the areas contribute in their explicit positions."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, render_template

from forms.fields import form_sections
from review import returns
from web.core.actor import me
from web.core.page_forms import TransitionForm, transition_form
from web.core.pages import CAUTION_TRIGGERS, lang
from web.core.stepper import stepper_context
from workflow.db import db
from workflow.definitions import Definition
from workflow.engine import allowed_triggers
from workflow.models import Application
from workflow.visibility import get_visible, programme_definitions


def open_supplement_items(application_id: int) -> list[dict[str, str]]:
    """The items of the application's open supplement request (what a `supply` must answer)."""
    request_row = returns.open_supplement(db.session, application_id)
    return list(request_row.items) if request_row else []


def decision_form(app: Application, definition: Definition, trigger: str, **kwargs: Any) -> TransitionForm:
    """The form of one decision on the page: an answer per point it answers (a supplement's items, a return's
    points), the points to correct for a return (review.returns)."""
    spec = definition.transition(trigger, app.state)
    items = returns.points_to_answer(db.session, app, definition, trigger)
    returning = spec is not None and returns.is_return(definition, spec)
    return transition_form(trigger, spec, items, returning=returning, **kwargs)


def render_detail(
    application_id: int,
    failed: tuple[str, TransitionForm] | None = None,
    status: int = 200,
    sections: dict[str, dict[str, Any]] | None = None,
) -> tuple[str, int]:
    user = me()
    app = get_visible(db.session, user, application_id)
    if app is None:
        abort(404)
    definition = programme_definitions(db.session)[app.programme_version_id]
    triggers = allowed_triggers(db.session, app, user, definition)
    overrides = sections or {}
    cards = {
        card.name: card.build(app, definition, user, **overrides.get(card.name, {}))
        for card in current_app.extensions["shell"].cards
    }
    # A card that offers some decisions itself (the pre-review card's three buttons) takes them off the list below.
    claimed = {t for card in cards.values() if isinstance(card, dict) for t in card.get("claimed_triggers", ())}
    actions = []
    for trigger in triggers:
        # …unless that decision was posted on its own and refused: its form shows again, with the reasons.
        refused_alone = failed is not None and failed[0] == trigger and not failed[1].from_card
        if trigger in claimed and not refused_alone:
            continue
        if failed is not None and failed[0] == trigger:
            form = failed[1]
        else:
            form = decision_form(app, definition, trigger, formdata=None)
            form.expected_version.data = app.version
        actions.append(
            {
                "trigger": trigger,
                "label": definition.trigger_label(trigger, lang()),
                "form": form,
                "caution": trigger in CAUTION_TRIGGERS,
            }
        )
    return render_template(
        "application.html",
        app=app,
        state_label=definition.state_label(app.state, lang()),
        programme=definition.title.get(lang()) or definition.code,
        form_data=form_sections(definition.form, app.kind, app.form or {}, lang()),
        window=definition.window,
        local_settings=[s.en if lang() == "en" else s.zh for s in definition.local_settings],
        can_edit_form=user.role == "applicant" and app.state in definition.editable,
        actions=actions,
        stepper=stepper_context(app, definition, user),
        **cards,
    ), status
