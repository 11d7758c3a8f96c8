"""The stage stepper on the application's page (issue 15 item 3): the stages of seed 002 §五 (初审, 完备性审核,
第三方现场核查, then the award and the payment), the one the application is at, who holds it, what comes next and
by when."""

from __future__ import annotations

import re

from tests import factories
from tests.support.pages import log_in


def _stepper(html: str) -> str:
    return html[html.index('id="stepper"') :].split("</section>")[0]


def _steps(card: str) -> list[tuple[str, bool]]:
    """(stage key, is it the current one) for each stage, in the order shown."""
    found = re.findall(r'<li class="step[^"]*"([^>]*) data-stage="([a-z_]+)"', card)
    return [(key, "aria-current" in attrs) for attrs, key in found]


def _fact(card: str, fact_id: str) -> str:
    found = re.search(rf'<dd id="{fact_id}">(.*?)</dd>', card, re.S)
    assert found, f"no {fact_id} on the stepper"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def test_awaiting_a_supplement_the_applicant_holds_it_at_the_completeness_stage_until_the_due_day(app, cast):  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "supplement_requested")
    due = factories.payload_for("request_supplement", app_id)["due_date"]  # the reviewer's date (seed 002 §五(一))

    card = _stepper(log_in(app, cast.applicant, lang="en").get(f"/applications/{app_id}").text)
    # The seed's procedure, in order; the supplement is a detour within the commission's completeness check.
    assert _steps(card) == [
        ("draft", False),
        ("district_review", False),
        ("completeness_check", True),
        ("site_verification", False),
        ("funding_review", False),
        ("paid", False),
        ("archived", False),
    ]
    current = card[card.index('aria-current="step"') :].split("</li>")[0]
    assert "Completeness check" in current and "Supplement requested" in current
    assert card.count("step-done") == 2  # draft and the district's pre-review are behind it
    # The applicant holds it (named by their unit), must supply the points, then the commission checks again.
    assert _fact(card, "stepper-holder") == f"You ({cast.org.name})"
    assert _fact(card, "stepper-actions") == "Supply supplement"
    assert _fact(card, "stepper-next") == "Completeness check"
    assert _fact(card, "stepper-due") == f"{due} (last day, Beijing time)"


def test_the_desk_is_named_as_the_applicant_knows_it_never_by_login(app, cast):  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    page = log_in(app, cast.applicant).get(f"/applications/{app_id}").text
    card = _stepper(page)
    # Seed 002 §五(一): 项目所在地主管部门 does the pre-review; here the project is in 闵行区.
    assert _fact(card, "stepper-holder") == "闵行区主管部门"
    assert _fact(card, "stepper-next") == "市经济信息化委完备性审核中"
    assert cast.district_reviewer.username not in card
    assert 'id="stepper-due"' not in card  # no deadline runs on the district

    factories.drive_to(cast, app_id, "site_verification")
    card = _stepper(log_in(app, cast.applicant).get(f"/applications/{app_id}").text)
    # Seed 002 §五(二): the third-party agency forms the panel, the experts verify on site.
    assert _fact(card, "stepper-holder") == "第三方机构、专家组"
    assert _fact(card, "stepper-next") == "资金审核中"


def test_a_rejected_application_ends_at_the_stage_it_was_refused_in(app, cast):  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "completeness_check")
    factories.fire(app_id, "reject", cast.municipal_reviewer, factories.payload_for("reject", app_id))
    card = _stepper(log_in(app, cast.district_reviewer, lang="en").get(f"/applications/{app_id}").text)
    assert [key for key, current in _steps(card) if current] == ["completeness_check"]
    assert "step-ended" in card
    assert _fact(card, "stepper-ended") == "Rejected"
    assert 'id="stepper-holder"' not in card and 'id="stepper-next"' not in card
