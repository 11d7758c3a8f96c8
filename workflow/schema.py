"""The one metadata of every table, for Alembic and the schema test: each stage's model module, named here.

Named, not imported at the top: the engine imports no stage (stages plug in by name, as guards do).
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from workflow.db import Base

MODEL_MODULES = (
    "workflow.accounts",
    "workflow.models",
    "workflow.round_models",
    "review.models",
    "applications.models",
    "notifications.models",
    "meters.models",
    "storage.models",
)


def metadata() -> MetaData:
    """Base.metadata once every model module has registered its tables."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base.metadata


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic's filter: a table a model marks `info={"partitioned": True}` has partitions named after it on
    PostgreSQL (`<table>_…`), made at run time, not by migrations; they are not differences."""
    if type_ != "table" or not reflected or compare_to is not None or name is None:
        return True
    partitioned = [t.name for t in Base.metadata.tables.values() if t.info.get("partitioned")]
    return not any(name.startswith(f"{table}_") for table in partitioned)
