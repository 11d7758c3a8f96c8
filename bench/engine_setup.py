"""The engine benchmark's shared setup: constants, the database, connect, prepare and the application pools."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import insert, make_url, select

from web.app import load_plugins
from web.core import migrate
from web.core.config import from_environment
from workflow import audit, operations, outbox
from workflow.db import db
from workflow.engine import fire
from workflow.models import Application, ProgrammeVersion

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The stage packages the app factory loads (WORKFLOW_PLUGINS in web/config.py): guards, effects, subscribers.
POOL_DISTRICT = "闵行区"
LIVE_DISTRICT = "浦东新区"  # the live rows sit apart, so the pools' reviewer never sees them
LABEL = "emc-acceptance@1"
COMMENT = {"comment": "请补充盖章页并更新能源计量器具配备表"}
CYCLE = {"district_review": ("return_for_correction", "returned"), "returned": ("resubmit", "district_review")}
SOURCE = {trigger: state for state, (trigger, _dest) in CYCLE.items()}
NOTIFY = "notifications.notify_transition"
# A form of the size a real submission carries: the ORM holds one per live application.
FORM = {
    "district": LIVE_DISTRICT,
    "contact": {"name": "王工", "phone": "021-5555-0100"},
    "annual_energy_tce": 12500,
    "metering_points": 240,
    "investment_yuan": "3860000.00",
    "summary": "能源管理中心一期：三级计量全覆盖，数据接入市级平台。" * 3,
}


def connect(url: str) -> None:
    db.configure(url)
    settings = from_environment()
    load_plugins(settings["WORKFLOW_PLUGINS"])  # the same stage plugins the app loads
    audit.configure(settings["AUDIT_KEYS"])  # the chain is keyed, as in the app
    # The relay stays out of the timed region: no sender, no kicker; outbox rows are left pending.
    outbox.configure(None, None)


def libpq_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def database(url: str) -> Iterator[str]:
    """The URL to benchmark on: the named database, or a scratch one dropped afterwards."""
    parsed = make_url(url)
    if parsed.database:
        yield url
        return
    with migrate.scratch_postgres(url, prefix="emc_bench") as scratch:
        yield scratch


def attach_required_rows(app_ids: list[int], user_id: int) -> None:
    """The attachment rows submit and resubmit require, inserted in bulk (the guard reads rows, not blobs)."""
    from applications.attachments import required_categories
    from applications.models import Attachment
    from forms.samples import sample_form

    digest = hashlib.sha256(b"bench").hexdigest()
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        _row, definition = operations.current_programme(session, "emc-acceptance")
    categories = required_categories(definition, "enterprise", sample_form("emc-acceptance", "enterprise"))
    rows = [
        {"application_id": app_id, "category": category, "filename": f"{category}.pdf", "version": 1,
         "content_type": "application/pdf", "size": 1, "sha256": digest, "blob_key": f"sha256/{digest[:2]}/{digest}",
         "uploaded_by_id": user_id, "uploaded_at": now}
        for app_id in app_ids
        for category in categories
    ]  # fmt: skip
    with db.transaction() as session:
        session.execute(insert(Attachment), rows)


def prepare(url: str, pool_size: int, live: int) -> dict[str, Any]:
    """Migrate, seed, a cast, three pools driven to district_review through fire(), and the live rows."""
    from tests.factories import make_cast, make_user, new_application

    migrate.upgrade(url)
    connect(url)
    with db.transaction() as session:
        operations.seed_programmes(session)
    cast = make_cast(POOL_DISTRICT)
    pools: dict[str, list[int]] = {}
    for method in ("fire", "raw6", "rawsame", "plain"):
        pools[method] = [new_application(cast, attach=False) for _ in range(pool_size)]
        attach_required_rows(pools[method], cast.applicant.id)
        for app_id in pools[method]:
            fire(app_id, "submit", cast.applicant.id)
    live_reviewer = make_user("district_reviewer", district=LIVE_DISTRICT)
    # The live rows only need to exist in a state: inserted in bulk, without their audit trail.
    with db.transaction() as session:
        pv_id = session.scalar(select(ProgrammeVersion.id).where(ProgrammeVersion.code == "emc-acceptance"))
        now = dt.datetime.now(dt.UTC)
        row: dict[str, Any] = {"programme_version_id": pv_id, "organisation_id": cast.org.id, "kind": "enterprise"}
        row["form"] = FORM
        row |= {"district": LIVE_DISTRICT, "state": "district_review", "version": 2, "created_by_id": cast.applicant.id}
        row |= {"created_at": now, "updated_at": now, "submitted_at": now}
        for start in range(0, live, 2000):
            batch = [
                {**row, "project_name": f"能源管理中心建设项目 {i}"} for i in range(start, min(live, start + 2000))
            ]
            session.execute(insert(Application), batch)
    return {"cast": cast, "pools": pools, "live_reviewer": live_reviewer.id}


class Pool:
    """Applications cycling district_review <-> returned, one after another; versions tracked here."""

    def __init__(self, ids: list[int]):
        self.ids = ids
        self.state = dict.fromkeys(ids, "district_review")
        self.version = dict.fromkeys(ids, 2)
        self.i = 0

    def next(self) -> tuple[int, str, str, int]:
        app_id = self.ids[self.i % len(self.ids)]
        self.i += 1
        trigger, dest = CYCLE[self.state[app_id]]
        return app_id, trigger, dest, self.version[app_id]

    def peek(self) -> str:
        """The trigger the next step fires."""
        return CYCLE[self.state[self.ids[self.i % len(self.ids)]]][0]

    def moved(self, app_id: int, dest: str) -> None:
        self.state[app_id] = dest
        self.version[app_id] += 1


def _who(cast: Any, trigger: str) -> Any:
    return cast.district_reviewer if trigger == "return_for_correction" else cast.applicant
