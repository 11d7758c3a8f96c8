"""The deadline-day scenario for locust: applicants editing drafts and uploading, reviewers working their queues.

    locust -f bench/load/locustfile.py --host http://127.0.0.1:PORT Applicant Reviewer

Everyone logs in as a browser does (the login page's CSRF token, then the session cookie) and also takes an API
token through POST /api/v1/auth/token for the API calls. The accounts are those `bench.load.seed` makes; the
environment names how many there are (LOAD_APPLICANTS) and their password (LOAD_PASSWORD). `DetailApi` and `Bare`
are the throughput pair of `bench.load.run` (no think time), not part of the scenario.

Endpoint names (locust's `name`) group the figures: "[list page]", "[detail page]", "[detail API]" and so on.
"""

from __future__ import annotations

import itertools
import os
import random
import re
from html.parser import HTMLParser
from typing import Any

import gevent
from locust import FastHttpUser, HttpUser, between, constant, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "load-password-2026")
APPLICANTS = int(os.environ.get("LOAD_APPLICANTS", "200"))
DISTRICT_REVIEWERS = int(os.environ.get("LOAD_DISTRICT_REVIEWERS", "17"))
MUNICIPAL = int(os.environ.get("LOAD_MUNICIPAL", "8"))
EXPERTS = int(os.environ.get("LOAD_EXPERTS", "5"))
UPLOAD_BYTES = int(float(os.environ.get("LOAD_UPLOAD_MB", "20")) * 1024 * 1024)
# A person reads a page before the next click: seconds between two actions of one user.
THINK = tuple(float(x) for x in os.environ.get("LOAD_THINK", "5,15").split(","))
SECTION = "centre"  # a form section of text answers (能源管理中心建设情况), saved as a browser posts it
EDITED_FIELD = "innovation"
UPLOAD_CATEGORIES = ("equipment_list", "construction_contract", "completion_report")
BOUNDARY = "emc-load-boundary-5e3a"
# The CI smoke test (tests/integration/core/test_load_scenario.py): each user walks every task once at its start, so a
# few seconds exercise the whole scenario whatever the random choice of tasks.
WALK_THROUGH = os.environ.get("LOAD_WALK_THROUGH") == "1"
_walked: list[str] = []

# Generated once per process: every upload sends these bytes with its own last line (so none is a re-upload).
_PAYLOAD = b"%PDF-1.7\n" + os.urandom(max(UPLOAD_BYTES - 64, 0))
_applicant_numbers = itertools.count()
_reviewer_numbers = itertools.count()
_upload_numbers = itertools.count()


class FormReader(HTMLParser):
    """The fields a browser would post from a page's first form with a CSRF token: inputs, textareas, selects."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.action: str | None = None
        self._in_form = False
        self._done = False
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None
        self._selected: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if self._done:
            return
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._in_form, self.action, self.fields = True, a.get("action"), []
        if not self._in_form or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], []
        elif tag == "select" and a.get("name"):
            self._select, self._selected, self._first_option = a["name"], None, None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self._selected = value

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            self.fields.append(
                (self._select, self._selected if self._selected is not None else self._first_option or "")
            )
            self._select = None
        elif tag == "form" and self._in_form:
            # The first posting form that carries a CSRF token is the page's own (the header's logout form is not).
            self._in_form = False
            self._done = any(name == "csrf_token" for name, _ in self.fields) and any(
                name != "csrf_token" for name, _ in self.fields
            )


def read_form(html: str) -> tuple[str | None, list[tuple[str, str]]]:
    reader = FormReader()
    reader.feed(html)
    return reader.action, reader.fields


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    if not found:
        raise ValueError("no csrf_token on the page")
    return found.group(1)


def upload_body(category: str, n: int) -> tuple[bytes, str]:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="category"\r\n\r\n{category}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="设备清单-{n}.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\n%% load upload {n} {os.getpid()}\n%%EOF\n\r\n--{BOUNDARY}--\r\n".encode()
    return head + _PAYLOAD + tail, f"multipart/form-data; boundary={BOUNDARY}"


def get_detail_api(client: Any, headers: dict[str, str], ids: list[int]) -> None:
    """One of the queue's applications through the detail API (the scenario's reviewers and the throughput pair)."""
    client.get(
        f"/api/v1/applications/{random.choice(ids)}", headers=headers, name="/api/v1/applications/[id] [detail API]"
    )


class Person(HttpUser):
    """Logs in through the login page (as a browser: its CSRF token, then the cookie) and takes an API token."""

    abstract = True
    wait_time = between(*THINK)
    username = ""

    def log_in(self) -> None:
        page = self.client.get("/login", name="/login [page]")
        response = self.client.post(
            "/login",
            data={"csrf_token": csrf_token(page.text), "username": self.username, "password": PASSWORD},
            name="/login [post]",
            allow_redirects=False,
        )
        if response.status_code != 303:
            raise RuntimeError(f"{self.username} could not log in: {response.status_code}")
        answer = self.client.post(
            "/api/v1/auth/token", json={"username": self.username, "password": PASSWORD}, name="/api/v1/auth/token"
        )
        self.api = {"Authorization": f"Bearer {answer.json()['token']}"}

    def walked(self) -> None:
        """The walk-through's end: once every user has walked, the run is over."""
        _walked.append(self.username)
        runner = self.environment.runner
        if runner is not None and len(_walked) >= runner.target_user_count:
            # Its own greenlet (quit() stops this user's too), after the CSV writer's next round (every second).
            gevent.spawn_later(3, runner.quit)

    def page(self, path: str, name: str) -> Any:
        """A page that must answer 200 as itself (a redirect to the login page would be a silent failure)."""
        with self.client.get(path, name=name, catch_response=True, allow_redirects=False) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {path}: {response.error or ''}")
            else:
                response.success()
            return response


class Applicant(Person):
    """An applicant on the deadline day: their list, one application, a form section saved, a 20 MB upload."""

    weight = 1 if WALK_THROUGH else 200  # the walk-through's two users: one of each class

    def on_start(self) -> None:
        self.username = f"load_applicant_{next(_applicant_numbers) % APPLICANTS:03d}"
        self.log_in()
        found = self.client.get("/api/v1/applications?per_page=100", headers=self.api, name="/api/v1/applications")
        items = found.json()["items"]
        self.ids = [item["id"] for item in items]
        self.drafts = [item["id"] for item in items if item["state"] == "draft"]
        if WALK_THROUGH:
            self.list_page(), self.detail_page(), self.save_section(), self.upload()
            self.walked()

    @task(4)
    def list_page(self) -> None:
        self.page("/applications", "/applications [list page]")

    @task(4)
    def detail_page(self) -> None:
        self.page(f"/applications/{random.choice(self.ids)}", "/applications/[id] [detail page]")

    @task(3)
    def save_section(self) -> None:
        """Open a section of a draft's form, change one answer, save it as the browser posts the form."""
        app_id = random.choice(self.drafts)
        path = f"/applications/{app_id}/form/{SECTION}"
        response = self.page(path, "/applications/[id]/form/[section] [form page]")
        if response.status_code != 200:
            return
        _action, fields = read_form(response.text)
        stamp = f"（第{next(_upload_numbers)}次保存）"
        posted = [(k, v if k != EDITED_FIELD else f"引入负荷预测与空压站群控。{stamp}") for k, v in fields]
        posted.append(("then", "list"))
        with self.client.post(
            path,
            data=posted,
            name="/applications/[id]/form/[section] [save]",
            allow_redirects=False,
            catch_response=True,
        ) as saved:
            location = saved.headers.get("Location", "")
            if saved.status_code == 303 and location.endswith(f"/applications/{app_id}/form"):
                saved.success()
            else:
                saved.failure(f"{saved.status_code} → {location or saved.text[:200]}")

    @task(1)
    def upload(self) -> None:
        """A 20 MB document through the API's upload path (streamed to the blob store, hashed, audited)."""
        app_id = random.choice(self.drafts)
        body, content_type = upload_body(random.choice(UPLOAD_CATEGORIES), next(_upload_numbers))
        headers = {**self.api, "Content-Type": content_type}
        with self.client.post(
            f"/api/v1/applications/{app_id}/attachments",
            data=body,
            headers=headers,
            name="/api/v1/applications/[id]/attachments [20 MB upload]",
            catch_response=True,
        ) as response:
            if response.status_code in (200, 201):
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")


class Reviewer(Person):
    """A reviewer working a queue: the desk (an expert's panel tasks), files from it as pages and through the API."""

    weight = 1 if WALK_THROUGH else 30

    def on_start(self) -> None:
        n = next(_reviewer_numbers) % (DISTRICT_REVIEWERS + MUNICIPAL + EXPERTS)
        if n < DISTRICT_REVIEWERS:
            self.username, self.queue = f"load_district_{n:02d}", "/desk"
        elif n < DISTRICT_REVIEWERS + MUNICIPAL:
            self.username, self.queue = f"load_municipal_{n - DISTRICT_REVIEWERS}", "/desk"
        else:
            self.username, self.queue = f"load_expert_{n - DISTRICT_REVIEWERS - MUNICIPAL}", "/desk"
        self.log_in()
        self.ids: list[int] = []
        self.desk()
        if WALK_THROUGH:
            self.detail_page(), self.detail_api()
            self.walked()

    @task(3)
    def desk(self) -> None:
        response = self.page(self.queue, "/desk [queue page]")
        if response.status_code == 200:
            self.ids = [int(i) for i in re.findall(r'href="/applications/(\d+)"', response.text)] or self.ids

    @task(4)
    def detail_page(self) -> None:
        if self.ids:
            self.page(f"/applications/{random.choice(self.ids)}", "/applications/[id] [detail page]")

    @task(2)
    def detail_api(self) -> None:
        if self.ids:
            get_detail_api(self.client, self.api, self.ids)


# --- the throughput pair (bench.load.run): no think time, the lighter client ----------------------------------------


class DetailApi(FastHttpUser):
    """The detail API as fast as it answers, for one reviewer's queue (the ratio's numerator)."""

    abstract = os.environ.get("LOAD_PAIR") != "1"
    wait_time = constant(0)

    def on_start(self) -> None:
        # bench.load.run logs in once and hands the token over: no login inside the measured seconds.
        self.api = {"Authorization": f"Bearer {os.environ['LOAD_PAIR_TOKEN']}"}
        self.ids = [int(i) for i in os.environ["LOAD_PAIR_IDS"].split(",")]

    @task
    def detail_api(self) -> None:
        get_detail_api(self.client, self.api, self.ids)


class Bare(FastHttpUser):
    """The bare Flask endpoint of bench.load.wsgi on the same server (the ratio's denominator)."""

    abstract = os.environ.get("LOAD_PAIR") != "1"
    wait_time = constant(0)

    @task
    def bare(self) -> None:
        self.client.get("/bench/bare", name="/bench/bare")
