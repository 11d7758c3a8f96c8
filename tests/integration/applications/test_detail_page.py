"""The application page shows the form as the form is laid out (seed 002 附件2): its parts, its labels, its order."""

from __future__ import annotations

import re

from tests import factories
from tests.support.pages import log_in


def _form_card(html: str) -> str:
    return html[html.index('id="form-title"') :].split("</section>")[0]


def test_the_saved_form_is_shown_under_the_forms_own_parts_in_order(app, cast):  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    for reader in (cast.applicant, cast.district_reviewer):
        card = _form_card(log_in(app, reader).get(f"/applications/{app_id}").text)
        # 附件2's own headings, in the seed's order, each above the fields it begins.
        parts = ["一、申报（投资）主体基本情况", "二、申报项目基本情况", "三、能源管理中心建设情况"]
        where = [card.index(f'<h3 class="form-part">{part}</h3>') for part in parts]
        assert where == sorted(where)
        assert (
            where[0] < card.index("<dt>单位名称</dt>") < where[1] < card.index("<dt>项目总投资（万元）</dt>") < where[2]
        )
        # Labels, never the form's internal keys.
        assert not re.search(r"<dt>[a-z]+_[a-z0-9_]+</dt>", card)


def test_in_english_the_parts_and_labels_are_english(app, cast):  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    card = _form_card(log_in(app, cast.applicant, lang="en").get(f"/applications/{app_id}").text)
    assert card.index("1. The applicant (investor)") < card.index("<dt>Unit name</dt>") < card.index("2. The project")
