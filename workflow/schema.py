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
    "review.models",
    "applications.models",
    "notifications.models",
    "meters.models",
)


def metadata() -> MetaData:
    """Base.metadata once every model module has registered its tables."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base.metadata
