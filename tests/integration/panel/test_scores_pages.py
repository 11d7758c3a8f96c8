"""The experts' scores on their scale on the consensus card (issue 15 item 6): per criterion each expert's score of
the criterion's maximum, per expert the weighted total and that on 100, and the panel's mean, median and range.
The score is a local setting (附表1 @2: 0–10 per criterion, weight 1); seed 002 records 符合 / 不符合."""

from __future__ import annotations

import re

from review import scoring
from tests import factories
from tests.support.pages import log_in
from workflow import operations


def _three_scored(cast: factories.Cast) -> tuple[int, int]:
    """Three experts sign sheets with every criterion 符合, scored 9, 7 and 8.5 of 10; the number of criteria."""
    third = factories.make_user("expert")
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    factories.ensure_leader(cast, app_id)
    for other in (cast.expert2, third):
        operations.assign(cast.agency_coordinator, app_id, other.id)
        factories.declare_clear(app_id, other.id)
    factories.visit_day_arrives(app_id)
    count = 0
    for expert, score in ((cast.expert, "9"), (cast.expert2, "7"), (third, "8.5")):
        sheet = scoring.view_sheet(expert, app_id)
        results = [
            {"criterion": c["id"], "result": "conform", "score": score}
            for cat in sheet["categories"]
            for c in cat["criteria"]
        ]
        count = len(results)
        scoring.save_answers(expert, app_id, results)
        scoring.submit_sheet(expert, app_id, factories.SIGNATURE_PNG, expert.username, True, factories.blob_store())
    return app_id, count


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_each_experts_total_and_the_panels_aggregate_on_the_scale(app, cast):  # type: ignore[no-untyped-def]
    app_id, n = _three_scored(cast)
    page = log_in(app, cast.expert, lang="en").get(f"/applications/{app_id}")
    assert page.status_code == 200
    table = page.text[page.text.index('id="expert-scores"') :].split("</table>")[0]
    rows = {user: _text(row) for user, row in re.findall(r'<tr data-expert="([^"]+)">(.*?)</tr>', table, re.S)}
    # Every criterion 9 of 10 → 9n of 10n → 90 on 100; 7 → 70; 8.5 → 85. Each found all n criteria 符合.
    assert rows[cast.expert.username].endswith(f"{n} / {n} {9 * n} / {10 * n} 90 / 100")
    assert rows[cast.expert2.username].endswith(f"{n} / {n} {7 * n} / {10 * n} 70 / 100")
    third = next(u for u in rows if u not in (cast.expert.username, cast.expert2.username))
    assert rows[third].endswith(f"{n} / {n} {n * 17 // 2}{'.5' if n % 2 else ''} / {10 * n} 85 / 100")
    # The panel: mean (90 + 70 + 85) / 3 = 245 / 3 = 81.666… → 81.67; median 85; range 70–90.
    panel = _text(table[table.index('id="panel-aggregate">') + len('id="panel-aggregate">') :].split("</tr>")[0])
    assert panel == "Panel mean 81.67 / 100 · median 85 · range 70–90 (3 experts scored)"


def test_per_criterion_each_score_shows_of_its_maximum_with_the_panels_mean(app, cast):  # type: ignore[no-untyped-def]
    app_id, _n = _three_scored(cast)
    page = log_in(app, cast.expert, lang="en").get(f"/applications/{app_id}")
    card = page.text[page.text.index('id="consensus"') :]
    row = card[card.index('<th scope="row">2.2</th>') :].split("</tr>")[0]
    assert re.findall(r'<span class="score">([^<]+)</span>', row) == ["9 / 10", "7 / 10", "8.5 / 10"]
    # (9 + 7 + 8.5) / 3 = 24.5 / 3 = 8.166… → 8.17, from 7 to 9.
    assert _text(row.split('class="panel-score">')[1]) == "mean 8.17 / 10 range 7–9"


def test_no_scores_show_before_ones_own_sheet_is_signed(app, cast):  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    factories.ensure_leader(cast, app_id)
    operations.assign(cast.agency_coordinator, app_id, cast.expert2.id)
    factories.declare_clear(app_id, cast.expert2.id)
    factories.score_sheet(cast.expert, app_id)
    page = log_in(app, cast.expert2).get(f"/applications/{app_id}")
    assert page.status_code == 200
    assert 'id="expert-scores"' not in page.text
