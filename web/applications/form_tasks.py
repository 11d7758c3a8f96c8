"""What the task list shows: each section's status, the attachments' status, and what is still needed, with links.

Form fields and attachments are kept apart: a field is to be filled in (or corrected) on its section's page, a file is
to be uploaded on the attachments card.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from applications import attachments
from applications.models import category_label
from forms import sections as S
from forms.fields import FormVersion
from forms.rules import validate
from web.core.pages import lang
from workflow.accounts import User
from workflow.db import db
from workflow.definitions import Definition
from workflow.models import Application

STATUS_LABELS = {S.NOT_STARTED: _l("Not started"), S.IN_PROGRESS: _l("In progress"), S.DONE: _l("Done")}


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    url: str
    status: str
    hint: str = ""

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])


@dataclass(frozen=True)
class Needed:
    text: str
    url: str | None


@dataclass(frozen=True)
class NeededIn:
    """What is still needed in one section of the form."""

    title: str
    url: str | None
    items: list[Needed]


def section_url(app: Application, section: S.Section, anchor: str | None = None) -> str:
    return url_for("applications.form_section", application_id=app.id, section=section.slug, _anchor=anchor)


def attachments_url(app: Application) -> str:
    return url_for("applications.application", application_id=app.id, _anchor="attachments")


def _uploaded(app: Application, user: User) -> set[str]:
    return {row.category for row in attachments.attachments_of(db.session, user, app.id)}


def task_list(app: Application, definition: Definition, form: FormVersion, user: User) -> dict[str, Any]:
    """The tasks in order (the form's sections, then the attachments), how many are done, and what is still needed."""
    data = app.form or {}
    problems = validate(form, app.kind, data, complete=True, lang=lang())
    parts = S.sections(form, app.kind)
    tasks = [Task(f"task-{s.slug}", s.title(lang()), section_url(app, s), S.status(s, data, problems)) for s in parts]
    required = attachments.required_categories(definition, app.kind, data)
    uploaded = _uploaded(app, user)
    missing = [c for c in required if c not in uploaded]
    have = len(required) - len(missing)
    files_status = S.DONE if not missing else S.IN_PROGRESS if have else S.NOT_STARTED
    hint = gettext("%(have)s of %(total)s required documents uploaded", have=have, total=len(required))
    tasks.append(Task("task-attachments", gettext("Attachments"), attachments_url(app), files_status, hint))

    section_of = {key: s for s in parts for key in s.keys}
    labels = {f.key: (f.en if lang() == "en" else f.zh) for f in form.fields}
    by_section: dict[str, list[Needed]] = {}
    for p in problems:
        part = section_of.get(p.field)
        label = labels.get(p.field, p.field)
        if p.code == "required":
            text = gettext("Fill in “%(field)s”", field=label)
        elif not S.filled(data.get(p.field)):  # a rule asks for something not there yet
            text = gettext("Fill in “%(field)s”: %(problem)s", field=label, problem=p.message)
        else:
            text = gettext("Correct “%(field)s”: %(problem)s", field=label, problem=p.message)
        url = section_url(app, part, p.field) if part else None
        by_section.setdefault(part.slug if part else "", []).append(Needed(text, url))
    fields = [NeededIn(s.title(lang()), section_url(app, s), by_section[s.slug]) for s in parts if s.slug in by_section]
    if "" in by_section:  # keys the form no longer has (a draft from before a form change)
        fields.append(NeededIn(gettext("Other"), None, by_section[""]))
    files = [
        Needed(gettext("Upload “%(document)s”", document=category_label(c, lang())), attachments_url(app))
        for c in missing
    ]
    return {
        "tasks": tasks,
        "done": sum(t.status == S.DONE for t in tasks),
        "fields_needed": fields,
        "fields_needed_count": sum(len(group.items) for group in fields),
        "files_needed": files,
    }
