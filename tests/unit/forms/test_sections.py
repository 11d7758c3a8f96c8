"""The form's sections (the task list's parts): every field in exactly one, each with its own address."""

from __future__ import annotations

import pytest

from forms import sections as S
from forms.fields import FORMS
from forms.samples import sample_form

KINDS = ("enterprise", "data_centre", "park")


@pytest.mark.parametrize("label", sorted(FORMS))
@pytest.mark.parametrize("kind", KINDS)
def test_every_field_of_the_kind_is_in_one_section_with_a_slug_of_its_own(label, kind):
    form = FORMS[label]
    parts = S.sections(form, kind)
    keys = [key for part in parts for key in part.keys]
    assert keys == [f.key for f in form.fields_for(kind)]  # each once, in the form's order
    assert len({part.slug for part in parts}) == len(parts)


def test_the_emc_form_has_the_seeds_six_parts_in_order():
    """Seed 002 附件2: the applicant, the project, metering, the effects, the centre, the acceptance report."""
    parts = S.sections(FORMS["emc-acceptance-form@2"], "enterprise")
    assert [p.slug for p in parts] == ["applicant", "project", "metering", "effects", "centre", "report"]
    assert parts[0].title("zh") == "一、申报（投资）主体基本情况"


def test_status_is_not_started_then_in_progress_then_done():
    form = FORMS["emc-acceptance-form@2"]
    complete = {**sample_form("emc-acceptance", "enterprise")}
    report = {k: v for k, v in complete.items() if k.startswith("report_")}

    def report_status(data: dict) -> str:  # type: ignore[type-arg]
        return dict((s.slug, st) for s, st in S.statuses(form, "enterprise", data))["report"]

    assert report_status({}) == S.NOT_STARTED
    assert report_status({"report_profile": "第一章"}) == S.IN_PROGRESS
    assert report_status(report) == S.DONE
    assert report_status({**report, "report_profile": "  "}) == S.IN_PROGRESS  # blank is not filled
