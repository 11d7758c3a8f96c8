"""The HTML pages: login, lists and details through the one visibility function, firing triggers from forms."""

from __future__ import annotations

import datetime as dt
import re
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask_babel import get_babel
from werkzeug.exceptions import InternalServerError

from forms.samples import sample_form
from tests import factories
from tests.support.pages import csrf_app, fire_form, log_in, state_badge, text_of
from web.core import errors as error_pages
from workflow import operations
from workflow.engine import fire
from workflow.workdays import SHANGHAI

ROOT = Path(__file__).resolve().parents[3]
TRANSLATIONS = ROOT / "web" / "translations"


def action_urls(response) -> set[str]:  # type: ignore[no-untyped-def]
    return set(re.findall(r'action="/applications/\d+/transitions/([a-z_]+)"', response.text))


# --- login --------------------------------------------------------------------------------------------------------


def test_login_page_is_chinese_with_viewport(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in response.text
    assert "用户名" in response.text and "密码" in response.text
    assert '<label for="username">用户名</label>' in response.text


def test_login_succeeds_and_lands_on_the_list(client, cast):
    response = client.post("/login", data={"username": cast.applicant.username, "password": factories.PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/applications"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/applications").status_code == 200


def test_bad_login_says_the_same_for_unknown_user_and_wrong_password(client, cast):
    wrong_password = client.post("/login", data={"username": cast.applicant.username, "password": "not it at all"})
    unknown_user = client.post("/login", data={"username": "nobody-by-this-name", "password": "not it at all"})
    assert wrong_password.status_code == unknown_user.status_code == 200
    assert "用户名或密码不正确" in wrong_password.text
    # Only the typed username differs between the two pages.
    assert wrong_password.text.replace(cast.applicant.username, "X") == unknown_user.text.replace(
        "nobody-by-this-name", "X"
    )
    assert client.get("/applications").status_code == 302


def test_deactivated_account_cannot_log_in(client):
    user = factories.make_user("district_reviewer", district="闵行区", active=False)
    response = client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    assert "用户名或密码不正确" in response.text


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [
        ("/applications?state=draft", "/applications?state=draft"),
        ("https://evil.example/phish", "/applications"),
        ("//evil.example/phish", "/applications"),
        ("/\\evil.example", "/applications"),
        ("javascript:alert(1)", "/applications"),
    ],
)
def test_login_follows_next_only_within_the_site(client, cast, next_value, expected):
    response = client.post(
        "/login",
        query_string={"next": next_value},
        data={"username": cast.applicant.username, "password": factories.PASSWORD},
    )
    assert response.headers["Location"] == expected


def test_pages_need_login(client, cast):
    app_id = factories.new_application(cast)
    for url in ("/applications", f"/applications/{app_id}"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    response = client.post(f"/applications/{app_id}/transitions/submit", data={"submit-expected_version": "1"})
    assert response.status_code == 302
    assert factories.state_of(app_id)[0] == "draft"
    assert "请先登录" in client.get("/login").text


def test_root_sends_to_login_or_to_the_list(app, client, cast):
    assert client.get("/").headers["Location"] == "/login"
    assert log_in(app, cast.applicant).get("/").headers["Location"] == "/applications"


def test_logout_is_a_post_and_ends_the_session(app, cast):
    client = log_in(app, cast.applicant)
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get("/applications").status_code == 302


def test_forms_without_csrf_token_are_refused_when_csrf_is_on(app, cast, monkeypatch):
    guarded = csrf_app(app, monkeypatch)
    client = guarded.test_client()
    credentials = {"username": cast.applicant.username, "password": factories.PASSWORD}
    refused = client.post("/login", data=credentials)
    assert refused.status_code == 400
    assert "表单已失效" in refused.text

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    assert client.post("/login", data={**credentials, "csrf_token": token.group(1)}).status_code == 303
    assert client.post("/logout").status_code == 400
    assert client.get("/applications").status_code == 200


# --- the list -----------------------------------------------------------------------------------------------------


def _other_district_application(cast) -> int:  # type: ignore[no-untyped-def]
    form = {**sample_form("emc-acceptance", "enterprise"), "district": "徐汇区"}
    applicant = cast.other_applicant
    created = operations.create_application(applicant, "emc-acceptance", "enterprise", "徐汇数据中心能管", form)
    factories.attach_required(factories.flask_app(), cast, created.id, actor=applicant)
    fire(created.id, "submit", cast.other_applicant)
    return created.id


def test_list_shows_only_what_the_caller_may_see(app, cast):
    ours = factories.new_application(cast, project_name="闵行能源管理中心")
    factories.drive_to(cast, ours, "district_review")
    _other_district_application(cast)

    minhang = text_of(log_in(app, cast.district_reviewer).get("/applications"))
    assert "闵行能源管理中心" in minhang and "徐汇数据中心能管" not in minhang

    xuhui = log_in(app, cast.other_district_reviewer)
    page = text_of(xuhui.get("/applications"))
    assert "徐汇数据中心能管" in page and "闵行能源管理中心" not in page
    hidden = xuhui.get(f"/applications/{ours}")
    missing = xuhui.get("/applications/987654321")
    assert hidden.status_code == missing.status_code == 404
    # The same page, but for the id in the language toggle's link.
    assert hidden.text.replace(f"/applications/{ours}?", "?") == missing.text.replace("/applications/987654321?", "?")


def test_drafts_stay_with_the_applicant(app, cast):
    draft = factories.new_application(cast, project_name="尚未提交的项目")
    assert "尚未提交的项目" in text_of(log_in(app, cast.applicant).get("/applications"))
    reviewer = log_in(app, cast.district_reviewer)
    assert "尚未提交的项目" not in text_of(reviewer.get("/applications"))
    assert reviewer.get(f"/applications/{draft}").status_code == 404


def test_list_rows_say_state_programme_kind_and_organisation(app, cast):
    app_id = factories.new_application(cast, kind="park", project_name="园区能源管理中心")
    factories.drive_to(cast, app_id, "district_review")
    page = text_of(log_in(app, cast.district_reviewer).get("/applications"))
    assert "园区能源管理中心" in page
    assert "区主管部门初审中" in page
    assert "能源管理中心建设" in page  # the programme's Chinese title
    assert "园区" in page and cast.org.name in page


def test_list_filters_by_state_and_programme(app, cast):
    factories.new_application(cast, project_name="草稿项目")
    submitted = factories.new_application(cast, project_name="已提交项目")
    factories.drive_to(cast, submitted, "district_review")
    client = log_in(app, cast.applicant)

    drafts = text_of(client.get("/applications?state=draft"))
    assert "草稿项目" in drafts and "已提交项目" not in drafts
    in_review = text_of(client.get("/applications?state=district_review&programme=emc-acceptance"))
    assert "已提交项目" in in_review and "草稿项目" not in in_review
    other_programme = text_of(client.get("/applications?programme=monitoring-fund"))
    assert "草稿项目" not in other_programme and "暂无申报" in other_programme


def test_applicant_creates_an_application_from_the_list(app, cast):
    client = log_in(app, cast.applicant)
    assert "新建申报" in client.get("/applications").text
    response = client.post(
        "/applications", data={"programme": "emc-acceptance", "kind": "data_centre", "project_name": "数据中心能管中心"}
    )
    assert response.status_code == 303
    app_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert factories.state_of(app_id) == ("draft", 1)
    detail = client.get(response.headers["Location"])
    assert state_badge(detail) == "草稿"
    assert "已创建申报草稿" in detail.text
    # Submitting is offered through "check your answers" (web/applications/submission.py), not a one-click post.
    assert f'id="go-check" href="/applications/{app_id}/check"' in detail.text


def test_new_application_refuses_a_kind_the_programme_does_not_take(app, cast):
    client = log_in(app, cast.applicant)
    response = client.post(
        "/applications", data={"programme": "monitoring-fund", "kind": "park", "project_name": "园区监测项目"}
    )
    assert response.status_code == 422
    assert "该类型的申报主体不能申报此专项" in response.text


def test_only_applicants_get_the_new_application_form(app, cast):
    reviewer = log_in(app, cast.district_reviewer)
    assert "新建申报" not in reviewer.get("/applications").text
    response = reviewer.post("/applications", data={"programme": "emc-acceptance", "kind": "enterprise"})
    assert response.status_code == 403


# --- one application ----------------------------------------------------------------------------------------------


def test_detail_offers_each_role_only_its_own_triggers(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    url = f"/applications/{app_id}"
    assert action_urls(log_in(app, cast.district_reviewer).get(url)) == {
        "return_for_correction",
        "pass_prereview",
        "reject",
    }
    assert action_urls(log_in(app, cast.applicant).get(url)) == {"withdraw"}
    municipal = log_in(app, cast.municipal_reviewer).get(url)
    assert municipal.status_code == 200 and action_urls(municipal) == set()


def test_detail_shows_form_data_and_history_in_shanghai_time(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    page = log_in(app, cast.district_reviewer).get(f"/applications/{app_id}")
    text = text_of(page)
    assert state_badge(page) == "区主管部门初审中"
    assert (
        "所属地区 闵行区" in text and "接入的能源品种 电力、燃气（天然气）、水" in text
    )  # labels, in the form's order
    assert "提交申报" in text and "草稿 → 区主管部门初审中" in text
    assert f"{cast.applicant.display_name}（{cast.org.name}） (申报单位)" in text  # by name and unit, not login
    today_in_shanghai = dt.datetime.now(SHANGHAI).strftime("%Y-%m-%d")
    assert today_in_shanghai in text


def test_firing_from_the_form_moves_the_application_and_shows_in_history(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    reviewer = log_in(app, cast.district_reviewer)
    response = fire_form(reviewer, app_id, "return_for_correction", {"comment": "请补充盖章页和审计报告"})
    assert response.status_code == 303
    assert factories.state_of(app_id)[0] == "returned"

    applicant_view = log_in(app, cast.applicant).get(f"/applications/{app_id}")
    assert state_badge(applicant_view) == "退回修改"
    text = text_of(applicant_view)
    assert "请补充盖章页和审计报告" in text
    assert "区主管部门初审中 → 退回修改" in text
    assert f'id="go-check" href="/applications/{app_id}/check"' in applicant_view.text  # resubmit, after checking


def test_missing_comment_shows_the_guards_reason_beside_the_field(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    reviewer = log_in(app, cast.district_reviewer)
    response = fire_form(reviewer, app_id, "return_for_correction", {"comment": "   "})
    assert response.status_code == 422
    assert "未能“退回修改”" in response.text
    assert 'id="return_for_correction-comment-error"><p>请填写：意见。</p>' in response.text
    assert factories.state_of(app_id)[0] == "district_review"


def test_stale_version_reloads_with_an_explanation(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    reviewer = log_in(app, cast.district_reviewer)
    _, version = factories.state_of(app_id)
    response = fire_form(reviewer, app_id, "pass_prereview", version=version - 1)
    assert response.status_code == 303
    assert "已有其他人修改了这份申报" in reviewer.get(response.headers["Location"]).text
    assert factories.state_of(app_id) == ("district_review", version)


def test_trigger_of_another_role_is_forbidden(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    response = fire_form(log_in(app, cast.applicant), app_id, "pass_prereview")
    assert response.status_code == 403
    assert "无权操作" in response.text
    assert factories.state_of(app_id)[0] == "district_review"


def test_trigger_not_possible_in_this_state_is_explained(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    client = log_in(app, cast.applicant)
    response = fire_form(client, app_id, "resubmit")
    assert response.status_code == 303
    assert "申报处于“区主管部门初审中”状态，不能执行此操作" in client.get(response.headers["Location"]).text


def test_trigger_on_an_application_the_caller_may_not_see_is_not_found(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    response = fire_form(log_in(app, cast.other_district_reviewer), app_id, "return_for_correction", {"comment": "x"})
    assert response.status_code == 404
    assert factories.state_of(app_id)[0] == "district_review"


def test_withdrawing_asks_for_confirmation(app, cast):
    app_id = factories.new_application(cast)
    client = log_in(app, cast.applicant)
    unconfirmed = fire_form(client, app_id, "withdraw")
    assert unconfirmed.status_code == 422
    assert factories.state_of(app_id)[0] == "draft"
    assert fire_form(client, app_id, "withdraw", {"confirm": "y"}).status_code == 303
    assert factories.state_of(app_id)[0] == "withdrawn"


def test_supplement_round_through_the_forms(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "completeness_check")
    municipal = log_in(app, cast.municipal_reviewer)
    due = factories.working_day(20).isoformat()
    response = fire_form(
        municipal, app_id, "request_supplement", {"items": "专项审计报告\n\n设备清单\n", "due_date": due}
    )
    assert response.status_code == 303
    assert factories.state_of(app_id)[0] == "supplement_requested"

    applicant = log_in(app, cast.applicant)
    page = applicant.get(f"/applications/{app_id}")
    assert '<label for="supply-answer_0">专项审计报告</label>' in page.text
    assert '<label for="supply-answer_1">设备清单</label>' in page.text

    half = fire_form(applicant, app_id, "supply", {"answer_0": "已上传", "answer_1": ""})
    assert half.status_code == 422
    assert "请答复第 2 项" in half.text
    assert fire_form(applicant, app_id, "supply", {"answer_0": "已上传", "answer_1": "已上传"}).status_code == 303
    assert factories.state_of(app_id)[0] == "completeness_check"


def test_supplement_due_date_must_be_in_the_future(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "completeness_check")
    municipal = log_in(app, cast.municipal_reviewer)
    response = fire_form(municipal, app_id, "request_supplement", {"items": "设备清单", "due_date": "2020-01-01"})
    assert response.status_code == 422
    assert "日期须晚于今天" in response.text


def test_award_and_payment_through_the_forms(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "funding_review")
    first = log_in(app, cast.finance_officer)
    assert "金额须为数字" in fire_form(first, app_id, "propose_award", {"amount": "五十万"}).text
    assert fire_form(first, app_id, "propose_award", {"amount": "351000.00"}).status_code == 303  # the rule's

    own = fire_form(first, app_id, "approve_award")
    assert own.status_code == 422 and "须由另一位财务人员办理" in own.text
    second = log_in(app, cast.finance_officer2)
    assert fire_form(second, app_id, "approve_award").status_code == 303
    paid = {
        "payment_reference": "PAY-2026-001",
        "amount": "351000.00",
        "value_date": factories.shanghai_today().isoformat(),
    }
    assert fire_form(second, app_id, "record_payment", paid).status_code == 303
    assert factories.state_of(app_id)[0] == "paid"
    assert "PAY-2026-001" in text_of(second.get(f"/applications/{app_id}"))


# --- language, errors, catalogs -----------------------------------------------------------------------------------


def test_english_on_request_and_remembered(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "returned")
    client = log_in(app, cast.applicant)
    assert state_badge(client.get(f"/applications/{app_id}")) == "退回修改"
    english = client.get(f"/applications/{app_id}?lang=en")
    assert '<html lang="en">' in english.text
    assert state_badge(english) == "Returned for correction"
    assert "History" in english.text and "Resubmit" in english.text
    assert state_badge(client.get(f"/applications/{app_id}")) == "Returned for correction"
    back = client.get(f"/applications/{app_id}?lang=zh")
    assert state_badge(back) == "退回修改"
    assert f'href="/applications/{app_id}?lang=en"' in back.text  # the toggle keeps the page


def test_language_chosen_on_a_redirect_is_remembered(app, cast):
    client = log_in(app, cast.applicant)
    assert client.get("/?lang=en").status_code == 302
    assert "Applications" in client.get("/applications").text


def test_error_pages_speak_the_readers_language(client):
    assert "未找到" in client.get("/no-such-page").text
    english = client.get("/no-such-page?lang=en")
    assert english.status_code == 404 and "Not found" in english.text


def test_server_error_page(app):
    with app.test_request_context("/applications?lang=en"):
        body, status, _headers = error_pages.http_error(InternalServerError())
    assert status == 500 and "Something went wrong" in body


def test_translations_resolve_to_web_translations(app):
    with app.app_context():
        assert [Path(p) for p in get_babel().translation_directories] == [TRANSLATIONS]


def _messages(catalog: Any) -> dict[Any, Any]:
    """id -> string; a plural's id and strings come back as lists, kept as tuples."""

    def frozen(value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    return {frozen(m.id): frozen(m.string) for m in catalog if m.id}


def test_compiled_catalogs_match_their_po_files():
    po_files = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    assert po_files, "no catalogs"
    for po in po_files:
        with po.open("rb") as fh:
            catalog = read_po(fh)
        fresh = BytesIO()
        write_mo(fresh, catalog)
        fresh.seek(0)
        with po.with_suffix(".mo").open("rb") as fh:
            committed = read_mo(fh)
        expected = _messages(read_mo(fresh))
        assert _messages(committed) == expected, (
            f"{po.with_suffix('.mo')} is stale: run .venv/bin/pybabel compile -d web/translations"
        )


def test_every_page_message_has_a_chinese_translation():
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    extracted = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords
        )
    }
    with (TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    untranslated = sorted(m for m in extracted if not (catalog.get(m) and catalog[m].string and not catalog[m].fuzzy))
    assert not untranslated, "extract and translate (see babel.cfg): " + "; ".join(untranslated)


def test_the_detail_names_the_programmes_local_settings_and_its_window(app, cast):
    """Where the seeds are silent the value is a local setting, and the page says so; the monitoring fund's 2022
    round shows its window, closing on seed 000's date (2022年9月30日)."""
    emc = factories.new_application(cast)
    page = text_of(log_in(app, cast.applicant).get(f"/applications/{emc}"))
    assert "本专项的本地设置" in page and "补充材料期限默认为10个工作日（本地设置" in page
    assert "申报窗口" not in page  # seed 002 names no window
    monitoring = operations.create_application(cast.applicant, "monitoring-fund", "enterprise", "在线监测改造", {})
    shown = text_of(log_in(app, cast.applicant).get(f"/applications/{monitoring.id}"))
    assert "申报窗口 2022-08-05 至 2022-09-30（含首尾两日，北京时间）" in shown
