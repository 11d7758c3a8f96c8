"""The deadline-day database: 200 applicants owning ~50 applications each, 30 reviewers, every row made by the app.

    python -m bench.load.seed [--database-url URL] [--apps 10000] [--applicants 200] [--workdir DIR] [--fresh]

Every application is opened by `operations.create_application` and moved by `fire()`, so each has what the pages
expect: a complete form, its audit trail, a 申报编号 and a revision once submitted, a pre-review record, an expert
leading its panel. Only the attachment rows that submit requires are inserted in bulk (pointing at one stored
PDF blob): the upload path is what the load itself exercises. The seeded history's notifications are marked sent
(delivering them is not part of the load). A database that already holds the seed is reused unless `--fresh`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import os
import time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, insert, inspect, make_url, select, update

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/emc_load"
DEFAULT_WORKDIR = Path(os.environ.get("BENCH_DIR", "/tmp")) / "emc-load"
PASSWORD = "load-password-2026"
PROGRAMME = "emc-acceptance"
KIND = "enterprise"
# Of each applicant's applications, in this order: drafts (edited during the load), waiting at the district,
# waiting at the municipal completeness check, and in site verification with an expert leading the panel.
MIX = (("draft", 0.40), ("district_review", 0.40), ("completeness_check", 0.16), ("site_verification", 0.04))
MUNICIPAL = 8
EXPERTS = 5


def environment(workdir: Path, url: str) -> dict[str, str]:
    """What the seed and the server share: the database, the blob folder and fixed keys (so a reused database
    and a new server agree on the audit chain's key)."""
    return {
        "DATABASE_URL": url,
        "EMC_INSTANCE": str(workdir / "instance"),
        "STORAGE_URL": f"file://{workdir / 'blobs'}",
        "SECRET_KEY": "emc-load-bench-secret",
        "AUDIT_KEY": "emc-load-bench-audit-key",
    }


def ensure_database(url: str, fresh: bool) -> None:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{parsed.database}"')


def usernames(applicants: int) -> dict[str, list[str]]:
    from workflow.accounts import DISTRICTS

    return {
        "applicant": [f"load_applicant_{i:03d}" for i in range(applicants)],
        "district_reviewer": [f"load_district_{i:02d}" for i in range(len(DISTRICTS))],
        "municipal_reviewer": [f"load_municipal_{i}" for i in range(MUNICIPAL)],
        "expert": [f"load_expert_{i}" for i in range(EXPERTS)],
    }


def already_seeded(apps: int) -> bool:
    from workflow.accounts import User
    from workflow.db import db
    from workflow.models import Application

    assert db.engine is not None
    if not inspect(db.engine).has_table("applications"):
        return False
    with db.transaction() as session:
        count = session.scalar(select(func.count()).select_from(Application))
        marker = session.scalar(select(User.id).where(User.username == "load_applicant_000"))
    return marker is not None and (count or 0) >= apps


def connect(env: dict[str, str]) -> Any:
    """The app's configuration applied to this process (plugins, audit key, workdays), with no outbox relay."""
    os.environ.update(env)
    from web.app import load_plugins
    from web.core.config import from_environment
    from workflow import audit, outbox
    from workflow.db import db

    settings = from_environment()
    Path(settings["INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)
    db.configure(env["DATABASE_URL"])
    load_plugins(settings["WORKFLOW_PLUGINS"])
    audit.configure(settings["AUDIT_KEYS"])
    outbox.configure(None, None)  # seeding: notifications are not sent (marked sent at the end)
    return settings


def people(applicants: int) -> dict[str, Any]:
    """Organisations (one per applicant, spread over every district) and the accounts; returns users by role."""
    from forms.uscc import check_character
    from web.core.security import hash_password
    from workflow.accounts import DISTRICTS, Organisation, User
    from workflow.db import db

    names = usernames(applicants)
    digest = hash_password(PASSWORD)  # argon2 is slow on purpose: once, shared by every load account
    with db.transaction() as session:
        orgs = []
        for i in range(applicants):
            body = f"913101MA1L{i:07d}"  # 17 characters, then the check character
            orgs.append(
                Organisation(
                    uscc=body + check_character(body),
                    name=f"负载测试单位{i:03d}",
                    kind=KIND,
                    district=DISTRICTS[i % len(DISTRICTS)],
                )
            )
        session.add_all(orgs)
        session.flush()
        users: list[User] = []
        for i, name in enumerate(names["applicant"]):
            users.append(User(username=name, role="applicant", organisation_id=orgs[i].id))
        for i, name in enumerate(names["district_reviewer"]):
            users.append(User(username=name, role="district_reviewer", district=DISTRICTS[i]))
        users += [User(username=name, role="municipal_reviewer") for name in names["municipal_reviewer"]]
        users += [User(username=name, role="expert") for name in names["expert"]]
        users.append(User(username="load_coordinator", role="agency_coordinator"))
        for user in users:
            user.display_name, user.email, user.password_hash = user.username, f"{user.username}@example.test", digest
        session.add_all(users)
        session.flush()
        by_name = {u.username: u for u in users}
        session.expunge_all()
    return {
        "orgs": orgs,
        "by_name": by_name,
        "district_of": {DISTRICTS[i]: by_name[n] for i, n in enumerate(names["district_reviewer"])},
        "names": names,
    }


def store_sample_blob(settings: dict[str, Any]) -> tuple[str, str, int]:
    """The one PDF every bulk attachment row points at, stored content-addressed as an upload would."""
    from storage.blobs import from_url
    from tests.factories import SAMPLE_PDF

    digest = hashlib.sha256(SAMPLE_PDF).hexdigest()
    key = f"sha256/{digest[:2]}/{digest}"
    store = from_url(settings["STORAGE_URL"])
    if not store.exists(key):
        store.put(key, io.BytesIO(SAMPLE_PDF), "application/pdf")
    return digest, key, len(SAMPLE_PDF)


def attach_rows(app_ids: list[int], user_id: int, blob: tuple[str, str, int], categories: list[str]) -> None:
    from applications.models import Attachment
    from workflow.db import db

    digest, key, size = blob
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "application_id": app_id,
            "category": category,
            "filename": f"{category}.pdf",
            "version": 1,
            "content_type": "application/pdf",
            "size": size,
            "sha256": digest,
            "blob_key": key,
            "uploaded_by_id": user_id,
            "uploaded_at": now,
        }
        for app_id in app_ids
        for category in categories
    ]
    with db.transaction() as session:
        session.execute(insert(Attachment), rows)


def targets(count: int) -> list[str]:
    """The state each of an applicant's `count` applications is driven to, by MIX."""
    out: list[str] = []
    for state, share in MIX:
        out += [state] * round(count * share)
    return (out + ["draft"] * count)[:count]


def seed(apps: int, applicants: int, settings: dict[str, Any], progress: bool = True) -> dict[str, int]:
    from forms.samples import sample_form
    from tests.factories import PREREVIEW_OK, ensure_budget, payload_for
    from web.core import migrate
    from workflow import operations
    from workflow.db import db
    from workflow.engine import fire
    from workflow.models import OutboxMessage

    migrate.upgrade(settings["DATABASE_URL"])
    with db.transaction() as session:
        operations.seed_programmes(session)
    ensure_budget(PROGRAMME)
    cast = people(applicants)
    blob = store_sample_blob(settings)
    from applications.attachments import required_categories
    from tests.factories import newest_definition

    definition = newest_definition(PROGRAMME)
    base_form = sample_form(PROGRAMME, KIND)
    categories = required_categories(definition, KIND, base_form)
    coordinator = cast["by_name"]["load_coordinator"]
    experts = [cast["by_name"][n] for n in cast["names"]["expert"]]
    municipal = [cast["by_name"][n] for n in cast["names"]["municipal_reviewer"]]
    per = targets(apps // applicants)
    counts: dict[str, int] = {}
    started = time.monotonic()
    for i, name in enumerate(cast["names"]["applicant"]):
        applicant, org = cast["by_name"][name], cast["orgs"][i]
        form = {**base_form, "district": org.district, "unit_name": org.name, "uscc": org.uscc}
        ids = [
            operations.create_application(applicant, PROGRAMME, KIND, f"能源管理中心建设项目 {i:03d}-{n:02d}", form).id
            for n in range(len(per))
        ]
        submitted = [app_id for app_id, target in zip(ids, per, strict=True) if target != "draft"]
        attach_rows(submitted, applicant.id, blob, categories)
        reviewer = cast["district_of"][org.district]
        for n, (app_id, target) in enumerate(zip(ids, per, strict=True)):
            counts[target] = counts.get(target, 0) + 1
            if target == "draft":
                continue
            fire(app_id, "submit", applicant)
            if target == "district_review":
                continue
            fire(app_id, "pass_prereview", reviewer, PREREVIEW_OK)
            if target == "completeness_check":
                continue
            fire(app_id, "confirm_complete", municipal[n % len(municipal)], payload_for("confirm_complete", app_id))
            expert = experts[(i + n) % len(experts)]
            operations.assign(coordinator, app_id, expert.id, leader=True)
            from tests.factories import declare_clear

            declare_clear(app_id, expert.id)
        if progress and (i + 1) % 20 == 0:
            print(
                f"  seeded {i + 1}/{applicants} applicants ({(i + 1) * len(per)} applications, "
                f"{time.monotonic() - started:.0f} s)",
                flush=True,
            )
    with db.transaction() as session:
        # The seeded history's notifications are not part of the load: marked sent, so no relay picks them up.
        session.execute(
            update(OutboxMessage).where(OutboxMessage.dispatched_at.is_(None)).values(dispatched_at=func.now())
        )
    return counts


def prepare(url: str, apps: int, applicants: int, workdir: Path, fresh: bool = False) -> dict[str, str]:
    """The seeded database (reused when it already holds the seed); returns the environment the server needs."""
    env = environment(workdir, url)
    if make_url(url).get_backend_name() == "postgresql":
        ensure_database(url, fresh)
    settings = connect(env)
    from workflow.db import db

    if already_seeded(apps):
        print(f"seed: {make_url(url).database} already holds {apps:,} applications (reused; --fresh to rebuild)")
    else:
        started = time.monotonic()
        counts = seed(apps, applicants, settings)
        print(f"seed: {sum(counts.values()):,} applications {counts} in {time.monotonic() - started:.0f} s")
    assert db.engine is not None
    db.engine.dispose()
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--apps", type=int, default=10_000)
    parser.add_argument("--applicants", type=int, default=200)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the database")
    args = parser.parse_args()
    prepare(args.database_url, args.apps, args.applicants, args.workdir, args.fresh)


if __name__ == "__main__":
    main()
