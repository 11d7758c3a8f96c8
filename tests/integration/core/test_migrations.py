"""Alembic is the only way the schema is made: models and migrations agree, and the history runs both ways."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, inspect, make_url, text
from sqlalchemy.pool import NullPool

from web.core import migrate
from workflow.db import make_engine
from workflow.schema import include_object
from workflow.schema import metadata as all_tables

metadata = all_tables()

APPEND_ONLY = {
    "postgresql": {"audit_events_append_only", "audit_events_no_truncate"},
    "sqlite": {"audit_events_no_update", "audit_events_no_delete"},
}


def test_models_match_the_migrated_test_database(database_url, committed_db):
    """`alembic check` on the test database: no difference between the models and the migrations."""
    # committed_db: no per-test connection holds SQLite's write lock while Alembic opens its own.
    migrate.check(database_url)


def test_the_comparison_would_notice_a_model_change(database_url, committed_db):
    """The agreement above is not vacuous: a model the migrations lack shows up as a difference."""
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(changed)
    Table("surprise", changed, Column("id", Integer, primary_key=True))
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            opts = {"compare_type": True, "include_object": include_object}
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), changed)
    finally:
        engine.dispose()
    assert [d[0] for d in diff] == ["add_table"]


@pytest.fixture
def scratch_url(database_url: str, tmp_path) -> Iterator[str]:
    """An empty database of the same kind as the test database, dropped afterwards."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    with migrate.scratch_postgres(database_url) as url:
        yield url


def _diff(url: str) -> list[object]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def _tables_and_triggers(url: str) -> tuple[set[str], set[str]]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            # A partitioned table's partitions (PostgreSQL) are made at run time, not by the migrations.
            tables = {t for t in inspect(conn).get_table_names() if include_object(None, t, "table", True, None)}
            if conn.dialect.name == "postgresql":
                query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
            else:
                query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            triggers = set(conn.execute(text(query)).scalars())
            return tables, triggers
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_on_a_fresh_database(scratch_url):
    """head → base → head works on an empty database, and the result matches the models exactly."""
    dialect = make_url(scratch_url).get_backend_name()
    model_tables = set(metadata.tables)

    migrate.upgrade(scratch_url)
    tables, triggers = _tables_and_triggers(scratch_url)
    assert tables == model_tables | {"alembic_version"}
    assert APPEND_ONLY[dialect] <= triggers
    assert _diff(scratch_url) == []

    migrate.downgrade(scratch_url, "base")
    tables, triggers = _tables_and_triggers(scratch_url)
    assert tables <= {"alembic_version"}
    assert not APPEND_ONLY[dialect] & triggers

    migrate.upgrade(scratch_url)
    tables, triggers = _tables_and_triggers(scratch_url)
    assert tables == model_tables | {"alembic_version"}
    assert APPEND_ONLY[dialect] <= triggers
    assert _diff(scratch_url) == []
    migrate.check(scratch_url)
