"""A real browser: an applicant on a phone and a district reviewer on a tablet pass one application between them."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from applications.attachments import required_categories
from forms.samples import sample_form
from tests import factories
from tests.support.browser import PHONE, TABLET, log_in

pytestmark = pytest.mark.e2e

SCREENSHOT = "/tmp/emc-page.png"


def fill_in_the_form(page: Page, form: dict[str, object]) -> None:
    """Type the application form section by section from its task list, as an applicant would, saving each."""
    page.get_by_role("link", name="填写申报表").click()
    tasks = page.url
    sections = page.locator("#tasks .task-name a").evaluate_all("links => links.map(a => a.href)")
    for section in [url for url in sections if "/form/" in url]:
        page.goto(section)
        for key, value in form.items():
            field = page.locator(f"#{key}")
            if not field.count():  # another section's field
                continue
            if isinstance(value, bool):
                field.set_checked(value)
            elif isinstance(value, list):  # several choices: tick each box by its label
                for choice in value:
                    page.locator(f'input[name="{key}"][value="{choice}"]').check()
            elif key in ("district", "investment_mode"):
                field.select_option(str(value))
            else:
                field.fill(str(value))
        page.locator('button[name="then"][value="list"]').click()
        expect(page.locator(".flash-success")).to_have_count(1)
    page.goto(tasks)
    expect(page.locator("#still-needed")).to_have_count(0)


def upload_on_the_page(page: Page, category: str, path: Path) -> None:
    """Choose the document and the file and upload it; the page's script sends it and shows progress."""
    form = page.locator("#upload-form")
    form.locator("#category").select_option(category)
    form.locator("#file").set_input_files(str(path))
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/attachments")) as sent:
        form.get_by_role("button", name="上传", exact=True).click()
    assert sent.value.headers["accept"] == "application/json"  # the script's request, not the plain form's
    expect(page.locator(f'li[data-category="{category}"]')).to_contain_text(path.name)


def test_applicant_and_reviewer_return_an_application_for_correction(browser, live_server, cast, tmp_path):
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    tablet = browser.new_context(viewport=TABLET, has_touch=True)
    try:
        applicant = phone.new_page()
        log_in(applicant, live_server, cast.applicant.username)
        new = applicant.get_by_role("form", name="新建申报")
        new.get_by_label("专项资金").select_option("emc-acceptance")
        new.get_by_label("申报主体类型").select_option("enterprise")
        new.get_by_label("项目名称").fill("浦江能源管理中心建设项目")
        new.get_by_role("button", name="创建草稿").click()
        expect(applicant.locator("#state")).to_have_text("草稿")
        detail_url = applicant.url
        # Submitting goes through "check your answers": an empty draft cannot be sent, and the page says which
        # fields the rules want, each linked to its section.
        applicant.locator("#go-check").click()
        expect(applicant.locator("#blocking")).to_contain_text("统一社会信用代码")
        expect(applicant.locator("#submit-application")).to_be_visible()
        form = {**sample_form("emc-acceptance", "enterprise"), "district": cast.org.district}
        applicant.goto(detail_url)
        fill_in_the_form(applicant, form)
        applicant.goto(detail_url)
        # Without the documents it is still blocked, naming each one; then they are uploaded on the page.
        applicant.locator("#go-check").click()
        expect(applicant.locator("#blocking")).to_contain_text("营业执照扫描件")
        expect(applicant.locator("#blocking")).not_to_contain_text("统一社会信用代码")
        applicant.goto(detail_url)
        for category in required_categories(factories.newest_definition("emc-acceptance"), "enterprise", form):
            scan = tmp_path / f"{category}.pdf"
            scan.write_bytes(factories.SAMPLE_PDF + category.encode())
            upload_on_the_page(applicant, category, scan)
        expect(applicant.locator("#attachments-missing")).to_have_count(0)
        applicant.locator("#go-check").click()
        expect(applicant.locator("#blocking")).to_have_count(0)
        applicant.locator("#submit-application").click()
        expect(applicant.locator("#reference")).to_contain_text("EMC-")
        expect(applicant.locator("#state")).to_have_text("区主管部门初审中")

        reviewer = tablet.new_page()
        log_in(reviewer, live_server, cast.district_reviewer.username, lands_on="/desk")
        reviewer.get_by_role("link", name="浦江能源管理中心建设项目").click()
        card = reviewer.locator("#prereview")
        card.locator('textarea[name="prereview-points"]').fill("请补充法定代表人签字和单位盖章页")
        card.get_by_role("button", name="退回修改").click()
        expect(reviewer.locator("#state")).to_have_text("退回修改")

        applicant.goto(detail_url)
        expect(applicant.locator("#state")).to_have_text("退回修改")
        expect(applicant.locator("#history")).to_contain_text("请补充法定代表人签字和单位盖章页")
        expect(applicant.locator("#go-check")).to_have_text("重新提交")
        applicant.screenshot(path=SCREENSHOT, full_page=True)

        # The correction: a signed and sealed commitment replaces the first one, which is kept as version 1.
        sealed = tmp_path / "真实性承诺书（盖章）.pdf"
        sealed.write_bytes(factories.SAMPLE_PDF + b"sealed")
        upload_on_the_page(applicant, "authenticity_commitment", sealed)
        expect(applicant.locator('li[data-category="authenticity_commitment"] details')).to_contain_text(
            "authenticity_commitment.pdf"
        )
        applicant.get_by_role("link", name="English").click()
        expect(applicant.locator("#state")).to_have_text("Returned for correction")
        applicant.locator("#go-check").click()
        # The returned point is answered beside itself, then the application goes back to the district.
        points = applicant.locator("#answer-points")
        expect(points).to_contain_text("请补充法定代表人签字和单位盖章页")
        for box in points.locator("textarea, input[type=text]").all():
            box.fill("已补充签字盖章页 / Signed and sealed page added")
        applicant.locator("#submit-application").click()
        expect(applicant.locator("#state")).to_have_text("District pre-review")
    finally:
        phone.close()
        tablet.close()


def test_the_decisions_sit_beside_the_material_on_a_wide_screen(browser, live_server, cast):
    """On a desktop the form to decide with stays beside what it decides on; on a phone it follows the material."""
    app_id = factories.new_application(cast)
    for viewport, beside in (({"width": 1366, "height": 900}, True), (PHONE, False)):
        context = browser.new_context(viewport=viewport)
        try:
            page = context.new_page()
            log_in(page, live_server, cast.applicant.username)
            page.goto(f"{live_server}/applications/{app_id}")
            material = page.locator(".detail-layout .material").bounding_box()
            decide = page.locator(".detail-layout .decide").bounding_box()
            assert material is not None and decide is not None
            if beside:
                assert decide["x"] >= material["x"] + material["width"]
                assert abs(decide["y"] - material["y"]) < 40
                # Scrolled down to the last of the material, the decisions are still in view.
                page.locator(".detail-layout .material > :last-child").scroll_into_view_if_needed()
                assert page.evaluate("window.scrollY") > 0
                assert 0 <= page.locator(".decide").evaluate("el => el.getBoundingClientRect().top") < 900
            else:
                assert decide["y"] >= material["y"] + material["height"]
        finally:
            context.close()
