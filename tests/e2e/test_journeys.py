"""Each role's main journey through the real pages, on a phone, a tablet and a desktop (issue 15, "Done means").

Every step is checked (no script or server error, nothing wider than the screen, the key text in view) and
photographed; the screenshots' paths are printed (`pytest -s` shows them). Where a role's part starts late in the
procedure, the factories bring the application there and the browser does the role's decisive page actions.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect
from sqlalchemy import delete, func, select

from applications.attachments import required_categories
from forms.samples import sample_form
from tests import factories
from tests.e2e.journeys import DEVICES, Person
from workflow import operations
from workflow.accounts import User
from workflow.db import db
from workflow.models import Application, ProgrammeVersion
from workflow.visibility import visible_applications

pytestmark = pytest.mark.e2e

PROJECT = "浦江能源管理中心建设项目"
# What the applicant types in the browser, the form's last section (the report's six chapters, seed 002 附件2);
# the factories fill the rest.
REPORT = (
    "report_profile",
    "report_project",
    "report_status",
    "report_construction",
    "report_effects",
    "report_next_steps",
)

Meet = Callable[[str], Person]


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for every journey's screenshots (E2E_SCREENSHOTS names a lasting one, e.g. for CI artifacts)."""
    wanted = os.environ.get("E2E_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("journeys")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots folder: {folder}")
    return folder


@pytest.fixture(params=list(DEVICES))
def device(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def meet(browser, live_server, shots, device, request) -> Iterator[Meet]:  # type: ignore[no-untyped-def]
    """Someone at the journey's device, in a browser context of their own."""
    journey = request.node.originalname.removeprefix("test_")
    people: list[Person] = []
    steps = itertools.count(1)

    def person(who: str) -> Person:
        people.append(Person(browser, live_server, device, journey, shots, who, steps))
        return people[-1]

    failed_before = request.session.testsfailed
    yield person
    for p in people:
        if request.session.testsfailed > failed_before:  # the page as it was when the test failed
            with contextlib.suppress(PlaywrightError):
                p.shoot("failed")
        p.close()
    for p in people:
        assert not p.problems, f"{p.who} after the last step: {p.problems}"


def app_id_of(page: Page) -> int:
    found = re.search(r"/applications/(\d+)", page.url)
    assert found, page.url
    return int(found.group(1))


def open_from_desk(person: Person, username: str, project: str = PROJECT) -> None:
    """Log in, land on the desk, open the application from the queue."""
    person.log_in(username, "/desk")
    person.step("desk", project)
    person.page.get_by_role("link", name=project).first.click()
    # The application's page, parsed and loaded, before anyone types into it: a field filled while the page is
    # still arriving can be replaced by the page that finishes arriving.
    person.page.wait_for_url(re.compile(r"/applications/\d+$"))
    person.page.wait_for_load_state("load")


# --- the applicant ---------------------------------------------------------------------------------------------------


def test_applicant_creates_fills_uploads_and_submits(meet, cast, tmp_path):
    me = meet("applicant")
    page = me.page
    me.log_in(cast.applicant.username, "/applications")
    me.step("applications", "新建申报")
    new = page.get_by_role("form", name="新建申报")
    new.get_by_label("专项资金").select_option("emc-acceptance")
    new.get_by_label("申报主体类型").select_option("enterprise")
    new.get_by_label("项目名称").fill(PROJECT)
    new.get_by_role("button", name="创建草稿").click()
    me.step("draft created", PROJECT, state="草稿")
    app_id = app_id_of(page)

    # The factories fill every section but the last and upload all documents but one; the browser does the rest.
    form = {**sample_form("emc-acceptance", "enterprise"), "district": cast.org.district}
    typed = {key: str(form.pop(key)) for key in REPORT}
    operations.update_draft(cast.applicant, app_id, form, expected_version=None)
    categories = required_categories(factories.newest_definition("emc-acceptance"), "enterprise", form)
    for category in categories[:-1]:
        factories.upload(factories.flask_app(), cast, app_id, category)
    last = categories[-1]

    # The task list: every section done but the report, which is not started.
    page.locator("#edit-form").click()
    tasks = page.locator("#tasks li.task")
    report = tasks.filter(has=page.locator('a[href$="/form/report"]'))
    expect(report.locator(".task-status")).to_have_attribute("data-status", "not_started")
    others = tasks.filter(has_not=page.locator('a[href$="/form/report"]')).locator(".task-status[data-status]")
    for status in others.all():
        expect(status).not_to_have_attribute("data-status", "not_started")
    me.step("task list", PROJECT)

    # The last section, typed; saving it leads to "check your answers".
    report.locator('a[href$="/form/report"]').click()
    for key, value in typed.items():
        page.locator(f"#{key}").fill(value)
    me.step("report section typed")
    page.locator('button[name="then"][value="next"]').click()
    expect(page).to_have_url(re.compile(rf"/applications/{app_id}/check$"))
    # One document is still missing: the check page says so and links to the attachments.
    blocking = page.locator("#blocking")
    expect(blocking).to_be_visible()
    me.step("check your answers, a document missing", typed["report_effects"], state="草稿")
    blocking.locator('a[href$="#attachments"]').first.click()

    scan = tmp_path / f"{last}.pdf"
    scan.write_bytes(factories.SAMPLE_PDF + last.encode())
    upload = page.locator("#upload-form")
    upload.locator("#category").select_option(last)
    upload.locator("#file").set_input_files(str(scan))
    upload.get_by_role("button", name="上传", exact=True).click()
    expect(page.locator(f'li[data-category="{last}"]')).to_contain_text(scan.name)
    expect(page.locator("#attachments-missing")).to_have_count(0)
    me.step("every document uploaded", scan.name)

    page.locator("#go-check").click()
    expect(page.locator("#blocking")).to_have_count(0)
    expect(page.locator(f'#check-attachments li[data-category="{last}"]')).to_contain_text(scan.name)
    me.step("check your answers, complete", typed["report_next_steps"], state="草稿")
    page.locator("#submit-application").click()

    # The confirmation: the reference number, the state, the receipt.
    expect(page).to_have_url(re.compile(rf"/applications/{app_id}/submitted$"))
    with db.transaction() as session:
        reference = session.get(Application, app_id).reference  # type: ignore[union-attr]
    assert reference
    expect(page.locator("#reference")).to_have_text(reference)
    me.step("submitted, with a reference number", reference, state="区主管部门初审中")
    with page.expect_download() as receipt:
        page.locator("#receipt-link").click()
    assert receipt.value.suggested_filename.startswith(reference) and receipt.value.suggested_filename.endswith(".docx")
    page.locator("#to-application").click()
    me.step("the application, submitted", reference, state="区主管部门初审中")
    assert factories.state_of(app_id)[0] == "district_review"


# --- the district reviewer -------------------------------------------------------------------------------------------


def test_district_reviewer_passes_prereview_from_the_queue(meet, cast):
    app_id = factories.new_application(cast, project_name=PROJECT)
    factories.fire(app_id, "submit", cast.applicant)
    me = meet("district")
    page = me.page
    open_from_desk(me, cast.district_reviewer.username)
    me.step("application", PROJECT, state="区主管部门初审中")
    # The documents are read beside the decision: nothing opens until one is picked, then it opens in place.
    frame = page.locator("#viewer-document")
    expect(frame).not_to_have_attribute("src", re.compile("."))
    page.locator("#viewer-choice").select_option(index=1)
    expect(frame).to_have_attribute("src", re.compile(r"/attachments/\d+/view$"))
    expect(page.locator("#viewer-links")).to_be_visible()
    me.step("document picked")
    page.reload()  # the opened PDF viewer takes the keyboard focus as it loads: the decision is typed on a fresh page
    card = page.locator("#prereview")
    for check in card.locator('input[type="radio"][value="ok"]').all():
        check.check()
    card.locator('textarea[name="prereview-opinion"]').fill("材料真实，同意上报")
    me.step("checks done")
    card.get_by_role("button", name="初审通过").click()
    me.step("pre-review passed", "材料真实，同意上报", state="市经济信息化委完备性审核中")
    assert factories.state_of(app_id)[0] == "completeness_check"


# --- the municipal completeness reviewer, and the applicant's answer -------------------------------------------------


def test_municipal_reviewer_asks_a_supplement_and_accepts_the_answer(meet, cast, tmp_path):
    app_id = factories.new_application(cast, project_name=PROJECT)
    factories.drive_to(cast, app_id, "completeness_check")
    reviewer = meet("municipal")
    page = reviewer.page
    open_from_desk(reviewer, cast.municipal_reviewer.username)
    reviewer.step("application", PROJECT, state="市经济信息化委完备性审核中")
    card = page.locator("#completeness")
    audit = card.locator('li[data-item="special_audit_report"]')
    audit.locator('input[value="insufficient"]').check()
    audit.locator("input[type=text], textarea").first.fill("未加盖会计师事务所公章")
    reviewer.step("documents marked")
    card.get_by_role("button", name="要求补充材料").click()
    reviewer.step("supplement requested", "未加盖会计师事务所公章", state="待补充材料")

    applicant = meet("applicant")
    applicant.log_in(cast.applicant.username, "/applications")
    applicant.step("applications, waiting for you", PROJECT)
    applicant.page.get_by_role("link", name=PROJECT).first.click()
    applicant.step("the points to supply", "未加盖会计师事务所公章", state="待补充材料")
    sealed = tmp_path / "专项审计报告（盖章）.pdf"
    sealed.write_bytes(factories.SAMPLE_PDF + b"sealed")
    upload = applicant.page.locator("#upload-form")
    upload.locator("#category").select_option("special_audit_report")
    upload.locator("#file").set_input_files(str(sealed))
    upload.get_by_role("button", name="上传", exact=True).click()
    expect(applicant.page.locator('li[data-category="special_audit_report"]')).to_contain_text(sealed.name)
    supply = applicant.action("提交补充材料")
    for answer in supply.locator("textarea, input[type=text]").all():
        answer.fill("已上传加盖公章的专项审计报告")
    applicant.step("answered")
    supply.get_by_role("button", name="提交补充材料").click()
    applicant.step("supplement sent", state="市经济信息化委完备性审核中")

    page.reload()
    reviewer.step("the answer beside the document", "已上传加盖公章的专项审计报告")
    for present in card.locator('input[type="radio"][value="present"]').all():
        present.check()
    card.get_by_role("button", name="材料完备，委托现场核查").click()
    reviewer.step("complete", state="第三方现场核查中")
    assert factories.state_of(app_id)[0] == "site_verification"


# --- the expert, then the panel's leader -----------------------------------------------------------------------------


def test_expert_declares_scores_signs_and_the_leader_concludes(meet, cast):
    app_id = factories.new_application(cast, project_name=PROJECT)
    factories.drive_to(cast, app_id, "site_verification")
    factories.ensure_leader(cast, app_id, declare=False)  # drawn; the declaration is the expert's, below
    factories.visit_day_arrives(app_id)
    me = meet("expert")
    page = me.page
    me.log_in(cast.expert.username, "/assignments")
    me.step("assignments", PROJECT)
    seat = page.locator(f'li[data-application="{app_id}"] form')
    seat.locator('input[value="no"]').check()
    seat.get_by_role("button").click()
    me.step("declared, the file opens", PROJECT, state="第三方现场核查中")

    steps = page.locator("#panel-steps-form")
    steps.locator("textarea").nth(0).fill("申报单位汇报建设情况并现场演示平台")
    steps.locator("textarea").nth(1).fill("查看关口计量点位，抽查数据采集")
    steps.get_by_role("button").click()
    me.step("visit steps noted", "查看关口计量点位，抽查数据采集")

    page.locator("#open-checklist").click()
    expect(page.locator("#checklist")).to_have_attribute("data-ready", "true")
    criteria = page.locator("li.criterion")
    total = criteria.count()
    assert total > 10
    for i in range(total):
        criteria.nth(i).locator('label[data-result="conform"]').click()
    expect(page.locator("#progress-done")).to_have_text(str(total))
    expect(page.locator("#pending-count")).to_have_text("0")
    me.step("checklist scored")
    pad = page.locator("#signature-pad")
    pad.scroll_into_view_if_needed()
    area = pad.bounding_box()
    assert area is not None
    page.mouse.move(area["x"] + 20, area["y"] + area["height"] / 2)
    page.mouse.down()
    for n in range(1, 10):
        page.mouse.move(area["x"] + 20 + n * 20, area["y"] + area["height"] * (0.3 + 0.05 * (n % 3)))
    page.mouse.up()
    page.locator("#signed-name").fill("王建国")
    page.locator("#confirm").check()
    page.locator("#submit-sheet").click()
    expect(page.locator("#submitted-note")).to_be_visible()
    me.step("sheet signed and submitted")

    page.goto(f"{me.base}/applications/{app_id}")
    me.step("consensus", "王建国")
    conclude = me.action("核查结论：通过")
    conclude.locator("textarea").first.fill("现场核查通过：核查表各项均符合要求")
    conclude.get_by_role("button", name="核查结论：通过").click()
    me.step("concluded", "现场核查通过", state="资金审核中")
    assert factories.state_of(app_id)[0] == "funding_review"


# --- the finance officers: four eyes, then the payment ---------------------------------------------------------------


def test_finance_officers_propose_approve_and_pay(meet, cast):
    app_id = factories.new_application(cast, project_name=PROJECT)
    factories.drive_to(cast, app_id, "funding_review")
    amount = factories.rule_award(app_id)
    first = meet("finance-1")
    open_from_desk(first, cast.finance_officer.username)
    first.step("award card", f"{Decimal(amount):,.2f}", state="资金审核中")  # what the programme's rule gives
    propose = first.action("拟定支持金额")
    propose.locator('input[name$="amount"]').fill(amount)
    expect(propose.locator('input[name$="amount"]')).to_have_value(amount)
    propose.get_by_role("button", name="拟定支持金额").click()
    first.step("proposed", state="拟定支持金额待复核")
    # Four eyes: the proposer's own approval is refused, and the page says a second officer must decide.
    first.action("复核通过").get_by_role("button", name="复核通过").click()
    expect(first.page.locator(".flash-error")).to_be_visible()
    first.step("own approval refused", state="拟定支持金额待复核", refused="/transitions/approve_award")

    second = meet("finance-2")
    open_from_desk(second, cast.finance_officer2.username)
    second.step("to approve", state="拟定支持金额待复核")
    second.action("复核通过").get_by_role("button", name="复核通过").click()
    second.step("approved", state="支持金额已核定")

    pay = second.action("登记拨付")
    pay.locator('input[name$="payment_reference"]').fill(f"PAY-{app_id}")
    pay.locator('input[name$="amount"]').fill(amount)
    pay.locator('input[name$="value_date"]').fill(factories.shanghai_today().isoformat())
    pay.get_by_role("button", name="登记拨付").click()
    second.step("paid", f"PAY-{app_id}", state="已拨付")
    assert factories.state_of(app_id)[0] == "paid"


# --- the commission's overview ---------------------------------------------------------------------------------------


def visible_by_state(user: User) -> Counter[str]:
    """What `user` may see, counted here by state, apart from the overview's own code."""
    with db.transaction() as session:
        found = session.scalars(visible_applications(session, user)).all()
        return Counter(a.state for a in found)


def test_admin_reads_the_overview(meet, cast):
    draft = factories.new_application(cast, project_name="草稿项目")
    waiting = factories.new_application(cast, project_name="初审项目")
    factories.fire(waiting, "submit", cast.applicant)
    paid = factories.new_application(cast, project_name="已拨付项目")
    factories.drive_to(cast, paid, "paid")
    assert {factories.state_of(a)[0] for a in (draft, waiting, paid)} == {"draft", "district_review", "paid"}
    seen = visible_by_state(cast.admin)
    assert seen == {"district_review": 1, "paid": 1}  # a draft is the applicant's alone
    amount = f"{Decimal(factories.rule_award(paid)):,.2f}"

    me = meet("admin")
    page = me.page
    me.log_in(cast.admin.username, "/applications")
    me.step("applications", "初审项目")
    page.locator('nav a[href="/overview"]').click()
    me.step("overview", amount)
    expect(page.locator("#overview-total")).to_contain_text(f"共 {sum(seen.values())} 件")
    rows = page.locator("#by-state tbody tr")
    expect(rows).to_have_count(len(seen))
    for state in ("区主管部门初审中", "已拨付"):
        row = rows.filter(has=page.locator("th", has_text=state))
        expect(row.locator("td.count").first).to_have_text("1")
    expect(page.locator("#budgets")).to_contain_text(amount)  # paid, in the budget's line
    for chart in page.locator("img.overview-chart").all():
        assert chart.evaluate("img => img.complete && img.naturalWidth > 0"), "a chart did not load"


# --- the administrator opens a new round -----------------------------------------------------------------------------


@pytest.fixture
def rounds_undone(app) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Remove the versions a journey published, once the live server's rows are gone (`committed_db` keeps the
    programme versions, the seeds, for the journeys after): asked for before `meet`, it is torn down after it."""
    assert db.engine is not None
    with db.engine.connect() as conn:
        newest = conn.scalar(select(func.max(ProgrammeVersion.id)))
    yield
    with db.engine.begin() as conn:
        conn.execute(delete(ProgrammeVersion).where(ProgrammeVersion.id > newest))


def test_admin_opens_a_new_round_through_the_pages(rounds_undone, meet, cast):
    code = "emc-acceptance"
    before = factories.newest_definition(code)
    assert before.window is None  # no round window yet: any window is the first, it overlaps nothing
    next_year = factories.shanghai_today().year + 1
    opens, closes = f"{next_year}-03-01", f"{next_year}-04-30"

    me = meet("admin")
    page = me.page
    me.log_in(cast.admin.username, "/applications")
    me.step("applications")
    page.locator('nav a[href="/rounds"]').click()
    programme = page.locator(f"#programme-{code}")
    expect(programme).to_contain_text(before.label)
    me.step("rounds", before.label)
    programme.get_by_role("button").click()
    page.wait_for_url(re.compile(r"/rounds/drafts/\d+$"))
    draft_path = page.url.removeprefix(me.base)
    me.step("draft copied", code)

    # A negative deadline first: the error summary names it and links to its field.
    deadline = page.locator("#deadline_supplement_requested")
    expect(deadline).to_have_value("10")  # seed 002's local 10 working days
    page.locator("#opens").fill(opens)
    page.locator("#closes").fill(closes)
    page.locator("#special_audit_from_wan").fill("200")
    deadline.fill("-3")
    me.step("settings typed")
    page.get_by_role("button", name=re.compile("保存|Save")).click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()  # the refused post's page has arrived, and with it the console's 422
    me.step("error summary", "不是 -3", refused=draft_path)
    link = summary.locator('a[href="#deadline_supplement_requested"]')
    expect(link).to_contain_text("不是 -3")
    link.click()
    expect(deadline).to_be_in_viewport()
    expect(deadline).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#special_audit_from_wan")).to_have_value("200")  # what was typed is kept
    deadline.fill("15")
    me.step("deadline corrected")
    page.get_by_role("button", name=re.compile("保存|Save")).click()
    page.wait_for_url(re.compile(r"/rounds/drafts/\d+/diff$"))
    changes = page.locator("#changes")
    me.step("the changes", before.label, "200")
    for key, old, new in (
        ("deadline.supplement_requested", "10", "15"),
        ("special_audit_from_wan", "100", "200"),  # seed 002 附件5: 投资额100万以上…专项审计报告
        ("window.opens", "—", opens),
        ("window.closes", "—", closes),
    ):
        expect(changes.locator(f'tr[data-key="{key}"] td')).to_have_text([old, new])

    page.get_by_role("button", name=re.compile("发布|Publish")).click()
    page.wait_for_url(re.compile(r"/rounds$"))
    after = factories.newest_definition(code)
    assert after.version == before.version + 1
    me.step("published", after.label)
    expect(page.locator(f"#programme-{code} table.versions")).to_contain_text(opens)
    expect(page.locator(f'#programme-{code} a[href="{draft_path}"]')).to_have_count(0)  # no longer a draft

    assert "15个工作日" in {s.key: s.zh for s in after.local_settings}["supplement_default_days"]
    assert after.window is not None and after.window.opens.isoformat() == opens
