"""Evidence checks by their names (issue 15 item 5): where a person reads a check — the evidence card, the expert's
checklist — it shows its Chinese name (English under lang en), the code only as a data attribute."""

from __future__ import annotations

import re

from meters.check_names import NAMES, name_of
from meters.checks import CHECKS
from tests import factories
from tests.support.meters import metered
from tests.support.pages import log_in, text_of

CODE = re.compile(r"\b[A-Z]+(?:_[A-Z0-9]+)+\b")  # ACCESS_RATIO_T1, STABLE_RUN_6M …


def test_every_check_has_a_chinese_and_an_english_name():
    assert set(NAMES) == set(CHECKS)
    assert name_of("ACCESS_RATIO_T1") == "一级（关口）表接入率"
    assert name_of("ACCESS_RATIO_T1", "en") == "Tier-1 (gateway) access ratio"
    assert all(re.search(r"[\u4e00-\u9fff]", zh) and not CODE.search(zh + en) for zh, en in NAMES.values())


def test_the_evidence_card_and_the_checklist_name_the_checks(app, cast):
    metered(cast.org.id)
    app_id = factories.on_site_visit_day(cast)
    expert = log_in(app, cast.expert)
    for url in (f"/applications/{app_id}", f"/applications/{app_id}/checklist"):
        page = expert.get(url)
        shown = text_of(page)
        assert "一级（关口）表接入率" in shown and "三级表接入率" in shown, url
        assert not [code for code in CODE.findall(shown) if code in CHECKS], url  # no bare code as text
        assert 'data-check="ACCESS_RATIO_T1"' in page.text  # the code stays as data
    english = text_of(log_in(app, cast.expert, "en").get(f"/applications/{app_id}"))
    assert "Tier-1 (gateway) access ratio" in english and "ACCESS_RATIO_T1" not in english
