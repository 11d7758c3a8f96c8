"""A real browser: an applicant on a phone and a district reviewer on a tablet pass one application between them."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from forms.samples import sample_form
from tests import factories

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}
SCREENSHOT = "/tmp/emc-page.png"


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{base}/applications")


def fill_form_through_api(context: BrowserContext, base: str, username: str, application_id: int) -> None:
    token = context.request.post(
        f"{base}/api/v1/auth/token", data={"username": username, "password": factories.PASSWORD}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    current = context.request.get(f"{base}/api/v1/applications/{application_id}", headers=headers).json()
    patched = context.request.patch(
        f"{base}/api/v1/applications/{application_id}",
        data={"form": sample_form("emc-acceptance", "enterprise")},
        headers={**headers, "If-Match": f'"{current["version"]}"'},
    )
    assert patched.ok, patched.text()


def test_applicant_and_reviewer_return_an_application_for_correction(browser, live_server, cast):
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
        # An empty draft is refused, and the page says which fields the rules want.
        applicant.get_by_role("button", name="提交申报").click()
        expect(applicant.locator("#state")).to_have_text("草稿")
        expect(applicant.locator("body")).to_contain_text("请填写“统一社会信用代码”")
        # The form itself is filled through the public API until the form page exists (issue 3, pages).
        fill_form_through_api(phone, live_server, cast.applicant.username, int(detail_url.rstrip("/").split("/")[-1]))
        applicant.goto(detail_url)
        applicant.get_by_role("button", name="提交申报").click()
        expect(applicant.locator("#state")).to_have_text("区主管部门初审中")

        reviewer = tablet.new_page()
        log_in(reviewer, live_server, cast.district_reviewer.username)
        reviewer.get_by_role("link", name="浦江能源管理中心建设项目").click()
        decision = reviewer.get_by_role("form", name="退回修改")
        decision.get_by_label("意见").fill("请补充法定代表人签字和单位盖章页")
        decision.get_by_role("button", name="退回修改").click()
        expect(reviewer.locator("#state")).to_have_text("退回修改")

        applicant.goto(detail_url)
        expect(applicant.locator("#state")).to_have_text("退回修改")
        expect(applicant.locator("#history")).to_contain_text("请补充法定代表人签字和单位盖章页")
        expect(applicant.get_by_role("button", name="重新提交")).to_be_visible()
        applicant.screenshot(path=SCREENSHOT, full_page=True)

        applicant.get_by_role("link", name="English").click()
        expect(applicant.locator("#state")).to_have_text("Returned for correction")
        expect(applicant.get_by_role("button", name="Resubmit")).to_be_visible()
    finally:
        phone.close()
        tablet.close()
