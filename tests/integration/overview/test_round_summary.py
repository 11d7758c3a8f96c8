"""A round's summary as .docx (issue 15 item 8): it opens in python-docx and its counts — by state, district and
applicant kind, the verdicts — equal what this test counts from the applications it created under that programme
version; an application pinned to an older version is not in it; only the overview's readers get it."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from docx import Document

from tests import factories
from tests.support.pages import log_in

KIND_EN = {"enterprise": "Industrial enterprise", "data_centre": "Data centre", "park": "Park"}


@pytest.fixture
def made(cast):  # type: ignore[no-untyped-def]
    """(id, district, kind, state) of each application made under the newest emc-acceptance version."""
    other = factories.make_cast("徐汇区")
    rows = []

    def at(who, state: str, kind: str = "enterprise") -> int:  # type: ignore[no-untyped-def]
        app_id = factories.new_application(who, kind=kind)
        factories.drive_to(who, app_id, state)
        rows.append((app_id, who.org.district, kind, state))
        return app_id

    at(cast, "district_review")
    at(cast, "district_review", kind="data_centre")
    at(other, "district_review")
    at(other, "completeness_check")
    at(cast, "funding_review")  # the panel concluded: pass
    at(cast, "verification_failed")  # the panel concluded: fail
    older = factories.new_application(cast)  # under an earlier round: not in this one
    factories.drive_to(cast, older, "district_review")
    factories.pin_to_version(older, 1)
    return rows


def _tables(doc) -> dict[tuple[str, ...], list[list[str]]]:  # type: ignore[no-untyped-def]
    """Each table by its header row, as its body rows of cell texts."""
    out = {}
    for table in doc.tables:
        cells = [[c.text for c in row.cells] for row in table.rows]
        out[tuple(cells[0])] = cells[1:]
    return out


def test_the_round_summary_counts_what_was_made(app, cast, made):
    definition = factories.definition_of(made[0][0])
    browser = log_in(app, cast.auditor, lang="en")
    page = browser.get("/overview")
    link = f"/overview/rounds/{definition.code}/{definition.version}.docx"
    assert f'href="{link}"' in page.text and 'id="rounds"' in page.text  # a link per round on the overview

    answer = browser.get(link)
    assert answer.status_code == 200 and answer.headers["Content-Disposition"].startswith("attachment")
    doc = Document(io.BytesIO(answer.data))
    facts = dict(tuple(row) for row in _tables(doc)[("Programme", definition.title["en"])])
    assert facts["Code and version"] == definition.label
    assert facts["Applications"] == str(len(made))
    tables = _tables(doc)

    by_state = Counter(definition.state_label(state, "en") for *_, state in made)
    assert {s: int(n) for s, n in tables[("State", "Applications")]} == by_state
    by_district = Counter(district for _, district, _, _ in made)
    assert {d: int(n) for d, n in tables[("District", "Applications")]} == by_district
    by_kind = Counter(KIND_EN[kind] for _, _, kind, _ in made)
    assert {k: int(n) for k, n in tables[("Applicant kind", "Applications")]} == by_kind
    verdicts = tables[("Applicant kind", "Passed", "Failed", "Pass rate")]
    assert verdicts == [["Industrial enterprise", "1", "1", "50%"]] and facts["Pass rate"] == "50%"
    desks = {row[0]: row[1] for row in tables[("Desk", "Waiting", "Median (days)", "Longest (days)")]}
    assert desks["District authority"] == str(sum(1 for *_, s in made if s == "district_review"))
    settings = dict(tuple(row) for row in tables[("Setting", "Value")])
    assert len(settings) == len(definition.local_settings) > 0
    assert ("Year", "Budget", "Reserved", "Committed", "Paid", "Available") in tables  # the auditor reads the ledger


def test_the_round_summary_is_in_chinese_by_default_with_the_east_asian_font(app, cast, made):
    definition = factories.definition_of(made[0][0])
    answer = log_in(app, cast.municipal_reviewer).get(f"/overview/rounds/{definition.code}/{definition.version}.docx")
    doc = Document(io.BytesIO(answer.data))
    assert definition.title["zh"] in doc.paragraphs[0].text
    fonts = doc.paragraphs[0].runs[0]._r.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "黑体"


def test_who_may_have_a_round_summary(app, cast, made):
    definition = factories.definition_of(made[0][0])
    link = f"/overview/rounds/{definition.code}/{definition.version}.docx"
    assert log_in(app, cast.applicant).get(link).status_code == 403
    assert log_in(app, cast.expert).get(link).status_code == 403
    assert log_in(app, cast.auditor).get(f"/overview/rounds/{definition.code}/99.docx").status_code == 404
    mine = _tables(Document(io.BytesIO(log_in(app, cast.district_reviewer, lang="en").get(link).data)))
    own = sum(1 for _, district, _, _ in made if district == cast.org.district)
    assert mine[("District", "Applications")] == [[cast.org.district, str(own)]]  # a district counts only its own
    assert not any(header[0] == "Year" for header in mine)  # and reads no ledger
