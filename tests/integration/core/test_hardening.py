"""The smaller gaps (issue 10 item 8): transport settings, no caching of case data, private files, a 503 page when
the database is down, and staging files swept."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask

from storage.blobs import STAGING_PREFIX, LocalBlobStore
from tests import factories
from tests.factories import PASSWORD
from web.app import private_sqlite_file, transport_security
from web.core import tasks
from web.core.config import from_environment, instance_secret
from web.core.extensions import blob_store

ROOT = Path(__file__).resolve().parents[3]


def test_transport_settings_come_from_the_environment(monkeypatch):
    shipped = from_environment()
    assert (shipped["SESSION_COOKIE_SECURE"], shipped["HSTS_SECONDS"], shipped["PROXY_COUNT"]) == (False, 0, 0)
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    monkeypatch.setenv("HSTS_SECONDS", "31536000")
    monkeypatch.setenv("PROXY_COUNT", "1")
    production = from_environment()
    assert (production["SESSION_COOKIE_SECURE"], production["HSTS_SECONDS"], production["PROXY_COUNT"]) == (
        True,
        31536000,
        1,
    )


def _bare_app(**config: object) -> Flask:
    app = Flask("probe")
    app.config.update({"PROXY_COUNT": 0, "HSTS_SECONDS": 0, **config})
    transport_security(app)

    @app.get("/whoami")
    def whoami() -> dict[str, str]:
        from flask import request

        return {"addr": request.remote_addr or "", "scheme": request.scheme}

    return app


def test_the_proxy_count_decides_whose_forwarded_for_is_believed():
    spoofed = {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"}
    direct = _bare_app().test_client().get("/whoami", headers=spoofed, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert direct.get_json() == {"addr": "10.0.0.9", "scheme": "http"}  # no proxy trusted: the header is ignored
    proxied = _bare_app(PROXY_COUNT=1).test_client()
    behind = proxied.get("/whoami", headers=spoofed, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert behind.get_json() == {"addr": "6.6.6.6", "scheme": "https"}


def test_hsts_is_sent_when_configured():
    assert "Strict-Transport-Security" not in _bare_app().test_client().get("/whoami").headers
    sent = _bare_app(HSTS_SECONDS=31536000).test_client().get("/whoami")
    assert sent.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_pages_and_api_answers_with_case_data_are_not_stored(app, cast):
    app_id = factories.new_application(cast, project_name="不可缓存的项目")
    browser = app.test_client()
    assert browser.post("/login", data={"username": cast.applicant.username, "password": PASSWORD}).status_code == 303
    for path in ("/applications", f"/applications/{app_id}"):
        page = browser.get(path)
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    api = app.test_client()
    token = api.post("/api/v1/auth/token", json={"username": cast.applicant.username, "password": PASSWORD})
    detail = api.get(f"/api/v1/applications/{app_id}", headers={"Authorization": f"Bearer {token.get_json()['token']}"})
    assert detail.status_code == 200 and detail.headers["Cache-Control"] == "no-store"
    assert "no-store" not in browser.get("/static/app.css").headers.get("Cache-Control", "")


def test_the_embedded_database_and_key_files_are_private(tmp_path):
    database = tmp_path / "instance" / "emc.sqlite3"
    private_sqlite_file(f"sqlite:///{database}")
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    database.chmod(0o644)  # made by an older version: tightened at the next start
    private_sqlite_file(f"sqlite:///{database}")
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    instance_secret(tmp_path, "audit_probe_key", lambda: "secret")
    assert stat.S_IMODE((tmp_path / "audit_probe_key").stat().st_mode) == 0o600


DATABASE_DOWN = """
import sys
from web.app import create_app
app = create_app({
    "TESTING": True, "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False, "INSTANCE_PATH": sys.argv[1],
    "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
})
client = app.test_client()
answer = client.post("/login", data={"username": "someone", "password": "a long password"})
print(answer.status_code)
print(answer.get_data(as_text=True))
"""


def test_with_the_database_down_a_page_is_a_chinese_503_from_the_base_template(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", DATABASE_DOWN, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "EMC_INSTANCE": str(tmp_path)},
        timeout=120,
        check=False,
    )
    status, _, body = result.stdout.partition("\n")
    assert status == "503", result.stderr[-2000:]
    assert "服务暂不可用" in body and 'lang="zh-CN"' in body and "Werkzeug" not in body


def test_staging_files_left_by_killed_writes_are_swept(app, tmp_path):
    store = LocalBlobStore(tmp_path / "blobs")
    old = store.root / "ab" / f"{STAGING_PREFIX}killed"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"half an upload")
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    fresh = store.staging()  # an upload in progress right now
    stored = store.put("ab/blob", open(__file__, "rb"))  # noqa: SIM115
    assert store.sweep_staging(24 * 3600) == 1
    assert not old.exists() and fresh.path is not None and fresh.path.exists() and store.exists(stored.key)
    fresh.discard()


def test_the_sweep_runs_as_a_scheduled_task(app):
    assert from_environment()["CELERY"]["beat_schedule"]["sweep-staging"]["task"] == tasks.sweep_staging.name
    store = blob_store(app)
    assert isinstance(store, LocalBlobStore)
    orphan = store.root / f"{STAGING_PREFIX}orphan-{os.getpid()}"
    orphan.write_bytes(b"x")
    two_days_ago = time.time() - 48 * 3600
    os.utime(orphan, (two_days_ago, two_days_ago))
    with app.app_context():
        result = tasks.sweep_staging.apply()
    assert result.successful() and result.result >= 1 and not orphan.exists()
