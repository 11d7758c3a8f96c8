"""The one declarative base, the database handle and transaction helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, cast

from sqlalchemy import JSON, DateTime, MetaData, Table, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JsonType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JsonType,
        list[Any]: JsonType,
        dt.datetime: DateTime(timezone=True),
    }


def table_of(model: type[Base]) -> Table:
    """A model's Table, for the Core statements of hot paths."""
    return cast(Table, model.__table__)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def iso_utc(value: dt.datetime | None) -> str | None:
    """A stored time as ISO 8601 in UTC, for JSON; None stays None."""
    return as_utc(value).isoformat() if value is not None else None


def _sqlite_pragmas(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and lets two writers race
    # between a read and a write; take over: BEGIN IMMEDIATE serialises units of work up front,
    # while the request's read session begins DEFERRED (WAL readers never block the writer).
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        _sqlite_pragmas(engine)
        return engine
    # No pre-ping (a round trip on every checkout): a connection the server dropped fails on its first statement
    # instead, which invalidates the pool, and fire() retries that command once (workflow/engine.py).
    kwargs.setdefault("pool_pre_ping", False)
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


# Marks the sessions that only read (a view's db.session, db.reading()): what they work out may be kept for the
# rest of their transaction (workflow.visibility), since nothing they do changes it.
READS_ONLY = "reads_only"


class Database:
    """Holds the engine and session factory; configured once by the app factory or a script."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.url: str | None = None
        self.sessionmaker = sessionmaker(expire_on_commit=False)
        # Request- or thread-scoped session for reads in views; writes go through transaction().
        self._read_sessionmaker = sessionmaker(expire_on_commit=False, info={READS_ONLY: True})
        self.session = scoped_session(self._read_sessionmaker)

    def configure(self, url: str, **engine_kwargs: Any) -> Engine:
        if self.engine is not None and self.url == url:
            return self.engine
        if self.engine is not None:
            self.engine.dispose()
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.bind_to(None)
        return self.engine

    @property
    def dialect(self) -> str:
        if self.engine is None:
            raise RuntimeError("database is not configured: call db.configure(url) or create_app()")
        return self.engine.dialect.name

    def bind_to(self, connection: Connection | None) -> None:
        """Tests: run every session inside an outer transaction on one connection (savepoints)."""
        self.session.remove()
        if connection is None:
            assert self.engine is not None
            self.sessionmaker.configure(bind=self.engine)
            # Reads must not take SQLite's write lock, or the request's own fire() would wait on it.
            self._read_sessionmaker.configure(bind=self.engine.execution_options(sqlite_begin="DEFERRED"))
        else:
            for maker in (self.sessionmaker, self._read_sessionmaker):
                maker.configure(bind=connection, join_transaction_mode="create_savepoint")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any exception."""
        if self.engine is None:
            raise RuntimeError("database is not configured: call db.configure(url) or create_app()")
        session = self.sessionmaker()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A unit of work that only reads: on SQLite it takes no write lock (BEGIN DEFERRED), so a long read may
        record its progress meanwhile in transactions of its own (a worker's binder build)."""
        if self.engine is None:
            raise RuntimeError("database is not configured: call db.configure(url) or create_app()")
        session = self._read_sessionmaker()
        try:
            with session.begin():
                yield session
        finally:
            session.close()


db = Database()
