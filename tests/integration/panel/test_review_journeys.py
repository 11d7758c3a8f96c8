"""After submission, for an application of each kind: the three desks and the panel, through the pages alone and
the API alone (issue 4: district pre-review, completeness check with a supplement, the panel's draw, declarations,
sheets, consensus, the leader's conclusion and the verification record)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import shlex
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from docx import Document

from applications.attachments import required_categories
from forms.samples import sample_form
from review import prereview
from tests import factories
from tests.support.api import bearer, problem
from tests.support.pages import log_in, state_badge, text_of
from tests.support.uploads import png, post_upload, upload

PROGRAMME = "emc-acceptance"
API = "/api/v1"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# A drawn signature that the record's printer can read (factories.SIGNATURE_PNG only passes the type check).
SIGNATURE = "data:image/png;base64," + base64.b64encode(png(240, 80)).decode()
AUDIT_REPORT = "special_audit_report"
# Seed 002 附件2 附件5: "投资额100万以上的项目要求委托会计师事务所出具的专项审计报告".
AUDIT_FROM_WAN = Decimal("100")

JOURNEYS = [
    # kind, the criterion the second expert disputes, the leader's conclusion, the state and its badge after it
    ("enterprise", "3.2", "conclude_pass", "funding_review", "资金审核中"),
    ("data_centre", "2.3", "conclude_pass", "funding_review", "资金审核中"),
    ("park", "1.1", "conclude_fail", "verification_failed", "现场核查不通过"),
]
REASONS = {"conclude_pass": "各项核查内容符合要求，个别异议已当场核实", "conclude_fail": "纳入平台的重点企业不足50%"}


def application_of_kind(cast: factories.Cast, kind: str) -> int:
    """A complete draft with every document, by the applicant of a unit of `kind` in the cast's district."""
    org = factories.make_org(kind, cast.org.district)
    cast.org = org
    cast.applicant = cast.by_role["applicant"] = factories.make_user("applicant", organisation=org)
    return factories.new_application(cast, kind=kind)


def expected_documents(kind: str) -> list[str]:
    """The completeness checklist's items: every required document (a data centre's platform confirmation too)."""
    form = sample_form(PROGRAMME, kind)
    return required_categories(factories.newest_definition(PROGRAMME), kind, form)


def results(criteria: list[str], disputed: str, says: str) -> list[dict[str, Any]]:
    """Every criterion conforms except `disputed`, which gets `says`."""
    return [{"criterion": c, "result": says if c == disputed else "conform", "base_revision": 0} for c in criteria]


def criteria_of(sheet: dict[str, Any]) -> list[str]:
    return [c["id"] for cat in sheet["categories"] for c in cat["criteria"]]


def conclusion_in(response: Any) -> str:
    """The verification record's 核查结论 cell (the .docx must open)."""
    assert response.status_code == 200, response.text
    assert response.mimetype == DOCX and response.data[:2] == b"PK"
    doc = Document(io.BytesIO(response.data))
    table = next(t for t in doc.tables if t.rows[0].cells[-1].text == "核查结果")
    last = table.rows[-1].cells
    assert last[0].text == "核查结论"
    return str(last[2].text)


# --- the pages, as a browser posts them -------------------------------------------------------------------------


class PageForms(HTMLParser):
    """The page's forms as a browser reads them: where each may POST (its action and its buttons' formactions)
    and the values it sends as they stand (hidden and text inputs, checked boxes, textareas, selected options)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        # Per form: where it posts, what it sends as it stands, and the values each radio group offers.
        self.forms: list[tuple[set[str], dict[str, str], dict[str, set[str]]]] = []
        self._open = False
        self._textarea: str | None = None
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            # A form that GETs (a filter) does not post anywhere.
            self.forms.append(({a.get("action", "")} if a.get("method", "get").lower() == "post" else set(), {}, {}))
            self._open = True
            return
        if not self._open or "disabled" in a:
            return
        targets, fields, choices = self.forms[-1]
        if "formaction" in a:
            targets.add(a["formaction"])
        name, kind = a.get("name"), a.get("type", "text")
        if tag == "input" and name and kind not in ("submit", "button", "reset", "image", "file"):
            if kind not in ("radio", "checkbox"):
                fields[name] = a.get("value", "")
                return
            choices.setdefault(name, set()).add(a.get("value", "on"))
            if "checked" in a:
                fields[name] = a.get("value", "on")
        elif tag == "textarea" and name:
            self._textarea, fields[name] = name, ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and (self._select not in fields or "selected" in a):
            fields[self._select] = a.get("value", "")  # the first option, unless one is selected

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.forms[-1][1][self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = False
        elif tag == "textarea" and self._textarea:
            fields = self.forms[-1][1]
            fields[self._textarea] = re.sub(r"^\r?\n", "", fields[self._textarea])  # as browsers drop it
            self._textarea = None
        elif tag == "select":
            self._select = None


def post_form(browser: Any, page: Any, url: str, changes: dict[str, str] | None = None) -> Any:
    """Fill in the page's one form that posts to `url` (only inputs the page has) and send it there."""
    assert page.status_code == 200, page.status_code
    forms = [(fields, choices) for targets, fields, choices in PageForms(page.text).forms if url in targets]
    assert len(forms) == 1, f"{len(forms)} forms on the page post to {url}"
    [(fields, choices)] = forms
    for name, value in (changes or {}).items():
        assert name in fields or name in choices, f"the form posting to {url} has no {name}"
        assert name not in choices or value in choices[name], f"{name} offers no {value!r}, only {choices[name]}"
    return browser.post(url, data={**fields, **(changes or {})})


def panel_on(page: Any) -> list[str]:
    """Usernames on the panel card, the leader first."""
    members = re.findall(r'<li class="attachment" data-username="([^"]+)">(.*?)</li>', page.text, re.S)
    leaders = [name for name, block in members if 'class="tag"' in block]
    return leaders + [name for name, _ in members if name not in leaders]


def agreement_on(page: Any) -> dict[str, str]:
    """Criterion → agree / disagree, from the consensus card's table."""
    card = page.text[page.text.index('id="consensus"') :].split("</section>")[0]
    return {c: a for a, c in re.findall(r'<tr class="agreement-(\w+)">\s*<th scope="row">([^<]+)</th>', card)}


def score_on_the_tablet(browser: Any, detail: str, disputed: str, says: str, name: str) -> None:
    """Open the checklist from the application page, send every result as the tablet's script does, sign."""
    page = browser.get(detail)
    assert page.status_code == 200
    assert f'href="{detail}/checklist"' in page.text
    assert browser.get(f"{detail}/checklist").status_code == 200
    sheet = browser.get(f"{detail}/checklist.json").json
    criteria = criteria_of(sheet)
    synced = browser.post(f"{detail}/checklist/sync", json={"results": results(criteria, disputed, says)})
    assert synced.status_code == 200, synced.json
    assert sorted(synced.json["saved"]) == sorted(criteria) and synced.json["conflicts"] == []
    signed = browser.post(
        f"{detail}/checklist/submit", json={"signature_png_base64": SIGNATURE, "signed_name": name, "confirm": True}
    )
    assert signed.status_code == 200, signed.json
    assert signed.json["submitted_at"]


@pytest.mark.parametrize("kind,disputed,conclusion,state,state_zh", JOURNEYS)
def test_through_the_pages_alone(app, cast, kind, disputed, conclusion, state, state_zh):
    app_id = application_of_kind(cast, kind)
    detail = f"/applications/{app_id}"
    applicant = log_in(app, cast.applicant)
    # Submit goes through "check your answers" (the detail page's button leads there).
    submitted = post_form(applicant, applicant.get(f"{detail}/check"), f"{detail}/check")
    assert submitted.status_code == 303, text_of(submitted)

    # The district authority finds it on its desk and passes it on the pre-review card: four checks, an opinion.
    district = log_in(app, cast.district_reviewer)
    assert f'href="{detail}"' in district.get("/desk").text
    checks = {f"prereview-check_{name}": "ok" for name in prereview.CHECKS}
    passed = post_form(
        district,
        district.get(detail),
        f"{detail}/transitions/pass_prereview",
        {**checks, "prereview-opinion": "材料真实，同意上报"},
    )
    assert passed.status_code == 303, text_of(passed)
    assert state_badge(district.get(detail)) == "市经济信息化委完备性审核中"

    # The commission: each required document on the card; the audit report comes back for a stamp.
    municipal = log_in(app, cast.municipal_reviewer)
    assert f'href="{detail}"' in municipal.get("/desk").text
    page = municipal.get(detail)
    assert re.findall(r'data-item="([a-z_]+)"', page.text) == expected_documents(kind)
    investment = Decimal(sample_form(PROGRAMME, kind)["total_investment_wan"])
    assert (AUDIT_REPORT in expected_documents(kind)) is (investment >= AUDIT_FROM_WAN)
    assert ("dc_platform_confirmation" in expected_documents(kind)) is (kind == "data_centre")
    assert f"项目总投资 {investment} 万元，达到 {AUDIT_FROM_WAN} 万元" in text_of(page)
    marks = {
        f"completeness-doc_{AUDIT_REPORT}": "insufficient",
        f"completeness-note_{AUDIT_REPORT}": "未加盖事务所公章",
    }
    requested = post_form(municipal, page, f"{detail}/transitions/request_supplement", marks)
    assert requested.status_code == 303, text_of(requested)

    page = applicant.get(detail)
    assert state_badge(page) == "待补充材料" and "未加盖事务所公章" in text_of(page)
    stamped = post_upload(applicant, app_id, AUDIT_REPORT, factories.SAMPLE_PDF + b"% stamped\n", "审计报告盖章版.pdf")
    assert stamped.status_code == 303
    supplied = post_form(
        applicant,
        applicant.get(detail),
        f"{detail}/transitions/supply",
        {"supply-answer_0": "已上传加盖公章的审计报告"},
    )
    assert supplied.status_code == 303, text_of(supplied)

    page = municipal.get(detail)
    assert "已上传加盖公章的审计报告" in text_of(page) and "审计报告盖章版.pdf" in page.text
    confirmed = post_form(municipal, page, f"{detail}/transitions/confirm_complete")
    assert confirmed.status_code == 303, text_of(confirmed)
    assert state_badge(municipal.get(detail)) == "第三方现场核查中"

    # The agency: three experts into the pool, a panel of two drawn on the card, the visit set.
    coordinator = log_in(app, cast.agency_coordinator)
    experts = {user.username: user for user in (factories.make_user("expert") for _ in range(3))}
    for username in experts:
        profile = {
            "expert-username": username,
            "expert-employer_name": "上海节能技术服务中心",
            "expert-employer_uscc": factories.uscc(),
            "expert-district": "徐汇区",
            "expert-specialities": "能源管理、电力",
        }
        assert post_form(coordinator, coordinator.get("/experts"), "/experts", profile).status_code == 303
    assert f'href="{detail}"' in coordinator.get("/desk").text
    page = coordinator.get(detail)
    assert "当前符合条件的专家 3 名" in text_of(page)
    drawn = post_form(coordinator, page, f"{detail}/panel", {"draw-size": "2"})
    assert drawn.status_code == 303, text_of(drawn)
    day = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    visit = {"visit-day": day, "visit-place": "现场：能源管理中心机房"}
    assert post_form(coordinator, coordinator.get(detail), f"{detail}/visit", visit).status_code == 303
    page = coordinator.get(detail)
    assert f"{day} 09:00" in text_of(page) and "现场：能源管理中心机房" in text_of(page)
    leader_name, second_name = panel_on(page)
    [left_out] = set(experts) - {leader_name, second_name}
    factories.visit_day_arrives(app_id)  # the calendar moves on to the visit's day: the sheets open there

    # Each drawn expert: the seat on /assignments, the file closed until they declare, then their own sheet.
    # The leader finds the disputed criterion as they conclude; the second expert finds it the other way.
    leader_says = "conform" if conclusion == "conclude_pass" else "nonconform"
    other_says = "nonconform" if leader_says == "conform" else "conform"
    browsers = {}
    for username, says in ((leader_name, leader_says), (second_name, other_says)):
        browser = browsers[username] = log_in(app, experts[username])
        assert f'data-application="{app_id}"' in browser.get("/assignments").text
        assert browser.get(detail).status_code == 404
        declaration = {f"declare{app_id}-conflict": "no"}
        declared = post_form(browser, browser.get("/assignments"), f"{detail}/panel/declaration", declaration)
        assert declared.status_code == 303 and declared.headers["Location"].endswith(detail)
        score_on_the_tablet(browser, detail, disputed, says, username)
    assert f'data-application="{app_id}"' not in log_in(app, experts[left_out]).get("/assignments").text

    leader, second = browsers[leader_name], browsers[second_name]
    page = leader.get(detail)
    assert {c for c, a in agreement_on(page).items() if a == "disagree"} == {disputed}
    assert applicant.get(f"{detail}/documents/verification-record").status_code == 403  # not before the conclusion

    # Only the leader concludes: the second expert is offered no conclusion, and a forged one is refused.
    assert f"{detail}/transitions/conclude_" not in second.get(detail).text
    version = re.search(rf'name="{conclusion}-expected_version" type="hidden" value="(\d+)"', page.text)
    assert version is not None
    forged = second.post(
        f"{detail}/transitions/{conclusion}",
        data={f"{conclusion}-expected_version": version.group(1), f"{conclusion}-comment": "代组长作结论"},
    )
    assert forged.status_code == 403
    assert state_badge(leader.get(detail)) == "第三方现场核查中"
    # At the site the leader notes both steps of the visit on the panel card (seed 002 §五(二)), then concludes.
    steps = {"steps-presentation": "申报单位汇报建设情况并现场演示平台", "steps-inspection": "查看计量布点，抽查数据"}
    assert post_form(leader, leader.get(detail), f"{detail}/visit/steps", steps).status_code == 303
    assert "查看计量布点，抽查数据" in text_of(coordinator.get(detail))
    page = leader.get(detail)
    concluded = post_form(
        leader, page, f"{detail}/transitions/{conclusion}", {f"{conclusion}-comment": REASONS[conclusion]}
    )
    assert concluded.status_code == 303, text_of(concluded)
    assert state_badge(leader.get(detail)) == state_zh
    assert factories.state_of(app_id)[0] == state

    # The verification record, from the link on the page: for the agency, and now for the applicant.
    word = "通过" if conclusion == "conclude_pass" else "不通过"
    for reader in (coordinator, applicant):
        page = reader.get(detail)
        assert f'href="{detail}/documents/verification-record"' in page.text
        shown = conclusion_in(reader.get(f"{detail}/documents/verification-record"))
        assert shown.startswith(word) and REASONS[conclusion] in shown


# --- the API ------------------------------------------------------------------------------------------------------


def fire_api(client: Any, headers: dict[str, str], app_id: int, trigger: str, **payload: Any) -> Any:
    return client.post(
        f"{API}/applications/{app_id}/transitions", json={"trigger": trigger, "payload": payload}, headers=headers
    )


def on_desk(client: Any, headers: dict[str, str]) -> list[int]:
    desk = client.get(f"{API}/desk", headers=headers)
    assert desk.status_code == 200, desk.get_json()
    return [item["id"] for item in desk.get_json()["items"]]


@pytest.mark.parametrize("kind,disputed,conclusion,state,_state_zh", JOURNEYS)
def test_through_the_api_alone(client, runner, cast, kind, disputed, conclusion, state, _state_zh):
    app_id = application_of_kind(cast, kind)
    url = f"{API}/applications/{app_id}"
    applicant = bearer(client, cast.applicant)
    assert fire_api(client, applicant, app_id, "submit").get_json()["state"] == "district_review"

    # The district authority: its desk, then the pass with the four checks.
    district = bearer(client, cast.district_reviewer)
    assert app_id in on_desk(client, district)
    checks = dict.fromkeys(prereview.CHECKS, "ok")
    passed = fire_api(client, district, app_id, "pass_prereview", checks=checks, opinion="材料真实，同意上报")
    assert passed.status_code == 200, passed.get_json()
    assert passed.get_json()["state"] == "completeness_check"

    # The commission: the checklist per document; the audit report comes back for a stamp.
    municipal = bearer(client, cast.municipal_reviewer)
    assert app_id in on_desk(client, municipal)
    checklist = client.get(f"{url}/completeness", headers=municipal).get_json()["checklist"]
    assert [item["id"] for item in checklist] == expected_documents(kind)
    assert all(item["present"] for item in checklist)
    audit = next(item for item in checklist if item["id"] == AUDIT_REPORT)
    assert audit["why"]["zh"].startswith("项目总投资")
    requested = fire_api(
        client,
        municipal,
        app_id,
        "request_supplement",
        items=[{"id": AUDIT_REPORT, "text": "会计师事务所专项审计报告：未加盖事务所公章"}],
        documents={AUDIT_REPORT: {"status": "insufficient", "note": "未加盖事务所公章"}},
    )
    assert requested.status_code == 200, requested.get_json()
    assert requested.get_json()["state"] == "supplement_requested"

    [asked] = client.get(f"{url}/completeness", headers=applicant).get_json()["supplement_requests"]
    assert [item["id"] for item in asked["items"]] == [AUDIT_REPORT] and asked["due_date"] > dt.date.today().isoformat()
    stamped = upload(client, applicant, app_id, AUDIT_REPORT, factories.SAMPLE_PDF + b"% stamped\n", "盖章版.pdf")
    assert stamped.status_code == 201
    supplied = fire_api(client, applicant, app_id, "supply", answers={AUDIT_REPORT: "已上传加盖公章的审计报告"})
    assert supplied.status_code == 200, supplied.get_json()

    after = client.get(f"{url}/completeness", headers=municipal).get_json()
    assert after["supplement_requests"][0]["items"][0]["answer"] == "已上传加盖公章的审计报告"
    audit = next(item for item in after["checklist"] if item["id"] == AUDIT_REPORT)
    assert (audit["attachment"]["filename"], audit["attachment"]["version"]) == ("盖章版.pdf", 2)
    marks = {item["id"]: {"status": "present", "note": ""} for item in after["checklist"]}
    confirmed = fire_api(client, municipal, app_id, "confirm_complete", documents=marks)
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["state"] == "site_verification"

    # The agency: three experts into the pool on the command line, a panel of two drawn, the visit set.
    experts = {user.username: user for user in (factories.make_user("expert") for _ in range(3))}
    for username in experts:
        added = runner.invoke(
            args=shlex.split(
                f"experts add {username} --employer-uscc {factories.uscc()} --employer 上海节能技术服务中心 "
                "--district 徐汇区 --speciality 能源管理"
            )
        )
        assert added.exit_code == 0, added.output
    coordinator = bearer(client, cast.agency_coordinator)
    assert app_id in on_desk(client, coordinator)
    drawn = client.post(f"{url}/panel", json={"size": 2, "seed": f"第{kind}批"}, headers=coordinator)
    assert drawn.status_code == 201, drawn.get_json()
    leader_name, second_name = (m["username"] for m in drawn.get_json()["members"])
    assert drawn.get_json()["pool_size"] == 3
    visit = {"visit_at": (dt.date.today() + dt.timedelta(days=14)).isoformat() + "T09:30", "place": "能源管理中心机房"}
    assert client.put(f"{url}/visit", json=visit, headers=coordinator).status_code == 200
    factories.visit_day_arrives(app_id)  # the calendar moves on to the visit's day: the sheets open there

    # The draw can be repeated by anyone from what was recorded.
    verified = runner.invoke(args=["panel", "verify", str(app_id)])
    assert verified.exit_code == 0, verified.output
    assert f"draw 1 (initial): {leader_name}, {second_name} reproduced from seed 第{kind}批" in verified.output
    assert "all 1 draws reproduce" in verified.output

    # Each drawn expert: told on their desk, the file closed until they declare, then their own sheet, signed.
    leader_says = "conform" if conclusion == "conclude_pass" else "nonconform"
    other_says = "nonconform" if leader_says == "conform" else "conform"
    tokens = {}
    for username, says in ((leader_name, leader_says), (second_name, other_says)):
        expert = tokens[username] = bearer(client, experts[username])
        desk = client.get(f"{API}/desk", headers=expert).get_json()
        assert [u["project_name"] for u in desk["undeclared"]] == ["能源管理中心建设项目"]
        problem(client.get(url, headers=expert), 404, "not_found")
        declared = client.post(f"{url}/panel/declaration", json={"conflict": False}, headers=expert)
        assert declared.status_code == 200 and declared.get_json()["conflict"] is False
        assert app_id in on_desk(client, expert)
        sheet = client.get(f"{url}/checklist", headers=expert).get_json()
        criteria = criteria_of(sheet)
        assert ("2.3" in criteria) is (kind == "data_centre")  # the data-centre criterion of 附表1
        assert sheet["checklist"]["annex"] == ("附表2" if kind == "park" else "附表1")
        saved = client.put(f"{url}/checklist", json={"results": results(criteria, disputed, says)}, headers=expert)
        assert saved.status_code == 200 and sorted(saved.get_json()["saved"]) == sorted(criteria)
        signature = {"signature_png_base64": SIGNATURE, "signed_name": username, "confirm": True}
        signed = client.post(f"{url}/checklist/submit", json=signature, headers=expert)
        assert signed.status_code == 200, signed.get_json()

    leader, second = tokens[leader_name], tokens[second_name]
    consensus = client.get(f"{url}/consensus", headers=leader).get_json()
    assert consensus["complete"] is True and consensus["disagreements"] == [disputed]
    problem(client.get(f"{url}/documents/verification-record", headers=applicant), 403, "forbidden")

    # At the site the leader notes both steps of the visit (seed 002 §五(二)); only the leader concludes.
    steps = {"presentation": "申报单位汇报建设情况并现场演示平台", "inspection": "查看计量布点，抽查数据"}
    problem(client.put(f"{url}/visit/steps", json=steps, headers=second), 403, "forbidden")
    assert client.put(f"{url}/visit/steps", json=steps, headers=leader).status_code == 200
    problem(fire_api(client, second, app_id, conclusion, comment="代组长作结论"), 403, "forbidden")
    concluded = client.post(
        f"{url}/transitions", json={"trigger": conclusion, "comment": REASONS[conclusion]}, headers=leader
    )
    assert concluded.status_code == 200, concluded.get_json()
    assert concluded.get_json()["state"] == state

    word = "通过" if conclusion == "conclude_pass" else "不通过"
    for reader in (coordinator, applicant):
        shown = conclusion_in(client.get(f"{url}/documents/verification-record", headers=reader))
        assert shown.startswith(word) and REASONS[conclusion] in shown
