"""Fixtures: one migrated database per run; each test inside a transaction rolled back at its end.

Database: SQLite (a temporary file) unless TEST_DATABASE_URL names a PostgreSQL server, on which
a fresh database is created for the run and dropped after. With REQUIRE_POSTGRES=1 (CI), a test
marked `postgres` fails instead of skipping when there is no PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests import factories
from tests.support import config, smtp
from web.app import create_app
from web.core import migrate
from workflow import operations
from workflow.db import db

# The real broker's fixtures (broker_celery, via_broker), for the tests marked `broker`.
pytest_plugins = ["tests.support.broker"]


def _postgres_server_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = _postgres_server_url()
    if server is None:
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.exit("REQUIRE_POSTGRES is set but TEST_DATABASE_URL names no PostgreSQL server", returncode=3)
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    with migrate.scratch_postgres(server, prefix="emc_test") as url:
        yield url


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    instance: Path = tmp_path_factory.mktemp("instance")
    os.environ.setdefault("EMC_INSTANCE", str(instance))
    application = create_app(config.in_process(database_url, instance))
    migrate.upgrade(database_url)
    with db.transaction() as session:
        operations.seed_programmes(session)
    factories.APP = application
    return application


@pytest.fixture(scope="session")
def is_postgres(app) -> bool:  # type: ignore[no-untyped-def]
    return db.dialect == "postgresql"


@pytest.fixture(autouse=True)
def _isolated(request: pytest.FixtureRequest, app) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Each test runs in an outer transaction that is rolled back; `commits` tests really commit."""
    marker = request.node.get_closest_marker("postgres")
    if marker is not None and db.dialect != "postgresql":
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail("this test needs PostgreSQL and REQUIRE_POSTGRES is set")
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    if "committed_db" in request.fixturenames:
        yield
        return
    assert db.engine is not None
    connection = db.engine.connect()
    outer = connection.begin()
    db.bind_to(connection)
    try:
        yield
    finally:
        db.bind_to(None)
        outer.rollback()
        connection.close()


KEEP_TABLES = {"alembic_version", "programme_versions"}


@pytest.fixture
def committed_db(app) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Real commits on many connections (concurrency tests); every table but the seeds is emptied after."""
    from workflow.schema import metadata as all_tables

    metadata = all_tables()

    yield
    assert db.engine is not None
    tables = [t.name for t in reversed(metadata.sorted_tables) if t.name not in KEEP_TABLES]
    for attempt in range(5):
        try:
            _empty(tables)
            return
        except OperationalError as error:
            # A request still in flight on a live server's thread (a browser test's last poll) may hold a table
            # the TRUNCATE needs while waiting for another: PostgreSQL ends one of the two; try again.
            if "deadlock detected" not in str(error) or attempt == 4:
                raise
            time.sleep(0.5)


def _empty(tables: list[str]) -> None:
    assert db.engine is not None
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # The audit table refuses TRUNCATE (migration 0021). As a replica session the trigger does not fire,
            # and no ALTER TABLE takes audit_events' lock ahead of the others.
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            conn.exec_driver_sql(
                "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only (DELETE refused)'); END"
            )


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 HTTP endpoint on 127.0.0.1 (moto's server; `mock_aws` would not intercept the minio client)."""
    import socket

    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"s3://testkey:testsecret@127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def cast() -> factories.Cast:
    """One account per role (two finance officers, two experts, a second district), ready to act."""
    return factories.make_cast()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[smtp.MailServer]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) for the whole run; `mailbox` points the app at it."""
    server, controller = smtp.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def mailbox(app, smtp_server: smtp.MailServer) -> Iterator[smtp.MailServer]:  # type: ignore[no-untyped-def]
    """The app sends mail over SMTP to the test server for this test (and to the log again after)."""
    from notifications.channels import SmtpChannel
    from web.core import notices

    smtp_server.clear()
    saved = notices.settings(app)
    app.extensions["notification_settings"] = dataclasses.replace(
        saved, channels={**saved.channels, "email": SmtpChannel(smtp_server.url(), "能源补贴 <noreply@emc.test>")}
    )
    try:
        yield smtp_server
    finally:
        app.extensions["notification_settings"] = saved
