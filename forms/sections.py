"""The form as a list of tasks: its parts under the form's own headings, each with how far it has got."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forms.fields import SECTIONS, FormVersion
from forms.rules import validate
from workflow.errors import Problem

NOT_STARTED, IN_PROGRESS, DONE = "not_started", "in_progress", "done"

# The address of each part of the form, by the field its heading starts at (forms.fields.SECTIONS).
SLUGS = {
    "unit_name": "applicant",
    "total_investment_wan": "project",
    "energy_types": "metering",
    "tier1_points": "metering",
    "saving_rate_pct": "effects",
    "management_system": "centre",
    "report_profile": "report",
    "key_unit_list_year": "retrofit",
}


@dataclass(frozen=True)
class Section:
    slug: str
    zh: str
    en: str
    keys: tuple[str, ...]

    def title(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


def sections(form: FormVersion, kind: str) -> list[Section]:
    """The parts of the form this kind of applicant fills, in the form's order (a heading's fields together)."""
    parts: list[tuple[str, str, str, list[str]]] = []
    for f in form.fields_for(kind):
        heading = SECTIONS.get(f.key)
        if heading is not None and (not parts or parts[-1][1] != heading[0]):
            parts.append((SLUGS.get(f.key, f.key), heading[0], heading[1], []))
        elif not parts:  # fields before any heading: a part of their own
            parts.append(("general", "基本信息", "General", []))
        parts[-1][3].append(f.key)
    return [Section(slug, zh, en, tuple(keys)) for slug, zh, en, keys in parts]


def filled(value: Any) -> bool:
    return value not in (None, "", []) and not (isinstance(value, str) and not value.strip())


def status(section: Section, data: dict[str, Any], problems: list[Problem]) -> str:
    """Done: nothing the submission rules say is wrong or missing in it (`problems` from validate(complete=True));
    not started: nothing of it saved; otherwise in progress."""
    if not any(p.field in section.keys for p in problems):
        return DONE
    if not any(filled(data.get(key)) for key in section.keys):
        return NOT_STARTED
    return IN_PROGRESS


def statuses(form: FormVersion, kind: str, data: dict[str, Any], lang: str = "zh") -> list[tuple[Section, str]]:
    """Each part of the form with its status, judged by the rules a submission must meet."""
    problems = validate(form, kind, data, complete=True, lang=lang)
    return [(section, status(section, data, problems)) for section in sections(form, kind)]
