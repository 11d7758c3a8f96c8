"""What every step of a browser journey checks: no script or server error, nothing wider than a phone, the key
text in view, and a full-page screenshot whose path the test prints (issue 15, "Done means")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Locator, Page, expect

from tests import factories

# The three screens of issue 15: a phone (390 px, touch), a tablet (touch) and a desktop.
DEVICES: dict[str, dict[str, Any]] = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "tablet": {"viewport": {"width": 820, "height": 1180}, "has_touch": True},
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}


# Text in view squeezed into a column too narrow for two characters, so it runs one character per line (the header
# name of issue 15 item 5; a grid column that a long label took): the first words of each, or nothing.
SQUEEZED = """() => [...document.querySelectorAll("body *")].filter(el => {
    if (el.children.length || el.offsetParent === null) return false;
    const text = (el.innerText || "").trim();
    if (text.length < 4) return false;
    const box = el.getBoundingClientRect();
    const line = parseFloat(getComputedStyle(el).lineHeight) || parseFloat(getComputedStyle(el).fontSize) * 1.5;
    return box.width < 2.2 * parseFloat(getComputedStyle(el).fontSize) && box.height > 3 * line;
}).map(el => (el.innerText || "").trim().slice(0, 12))"""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class Person:
    """One person at one device: their own browser context (their own login), watched at every step."""

    def __init__(
        self, browser: Browser, base: str, device: str, journey: str, shots: Path, who: str, steps: Iterator[int]
    ) -> None:
        self.base, self.device, self.journey, self.shots, self.who = base, device, journey, shots, who
        self.numbers = steps  # shared by everyone in the journey: the screenshots sort in the order taken
        self.context = browser.new_context(locale="zh-CN", **DEVICES[device])
        self.context.set_default_timeout(10_000)  # a missing element fails in seconds, not half a minute
        self.page: Page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("response", self._response)

    def _console(self, message: Any) -> None:
        # Chromium asks for /favicon.ico by itself, whatever the page says; its 404 is not the page's error.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.problems.append(f"console error: {message.text} ({message.location.get('url', '')})")

    def _response(self, response: Any) -> None:
        if response.status >= 500:
            self.problems.append(f"server error {response.status}: {response.request.method} {response.url}")

    def log_in(self, username: str, lands_on: str) -> None:
        """Log in on the login page, as a person types it; each role lands on its own work."""
        page = self.page
        page.goto(f"{self.base}/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(factories.PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page).to_have_url(f"{self.base}{lands_on}")

    def shoot(self, name: str) -> Path:
        """A full-page screenshot, its path printed in the test's output."""
        path = self.shots / f"{self.journey}-{self.device}-{next(self.numbers):02d}-{self.who}-{_slug(name)}.png"
        self.page.screenshot(path=str(path), full_page=True, scale="css")
        print(f"screenshot: {path}")
        return path

    def step(self, name: str, *texts: str, state: str | None = None, refused: str | None = None) -> Path:
        """Check the page as it stands and photograph it; `texts` must be in view, `state` in the state badge."""
        page = self.page
        # `refused`: the path of a post the server was meant to refuse (4xx, the page again with the reasons); the
        # console reports that status as an error, which here is the expected answer.
        if refused is not None:
            expected = [p for p in self.problems if re.search(rf"status of 4\d\d .*{re.escape(refused)}\)$", p)]
            assert expected, f"{self.who} at '{name}': {refused} was not refused"
            self.problems = [p for p in self.problems if p not in expected]
        page.wait_for_load_state("load")
        main = page.locator("main")
        for text in texts:
            expect(main).to_contain_text(text, use_inner_text=True)  # innerText: what is rendered, not hidden
        if state is not None:
            expect(page.locator("#state")).to_have_text(state)
        # Again, now that the page the last click led to has arrived: the first wait may have been answered by the
        # page it left, and a field typed into before the new one finishes loading can come back empty.
        page.wait_for_load_state("load")
        path = self.shoot(name)
        assert not self.problems, f"{self.who} at '{name}' on the {self.device}: {self.problems}"
        squeezed = page.evaluate(SQUEEZED)
        assert not squeezed, f"{self.who} at '{name}' on the {self.device}: text squeezed to a column: {squeezed}"
        overflow = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        assert overflow[0] <= overflow[1] + 1, (
            f"{self.who} at '{name}': the page is {overflow[0]} px wide on a {overflow[1]} px {self.device}"
        )
        return path

    def action(self, label: str) -> Locator:
        """The form of one decision in "What you can do now" (named by the decision's label)."""
        return self.page.get_by_role("form", name=label, exact=True)

    def close(self) -> None:
        self.context.close()
