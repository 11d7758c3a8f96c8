"""The settings of an app run in this process: a temporary instance folder with its blobs, tasks run eagerly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from web.core.config import from_environment


def in_process(
    database_url: str, instance: Path, *, testing: bool = True, secret_key: str = "test-secret-key"
) -> dict[str, Any]:
    """The test_config of create_app for the test session (testing=True) or a bench script run as in production."""
    return {
        # TESTING=False: a route's exception becomes a 500, as in production, and is reported.
        "TESTING": testing,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": secret_key,
        # The tests post forms without a token; a bench script keeps CSRF on as a browser meets it.
        **({"WTF_CSRF_ENABLED": False} if testing else {}),
        "STORAGE_URL": f"file://{instance / 'blobs'}",
        # Every client is 127.0.0.1: the per-client login limit would trip across tests. The tests of the limit set
        # the shipped value (from_environment) for a client address of their own.
        "LOGIN_RATE_LIMIT": "100000 per minute",
        # Tasks run in-process even when CELERY_BROKER_URL is set (CI); the broker test builds its own Celery.
        "CELERY": {**from_environment()["CELERY"], "broker_url": "memory://", "task_always_eager": True},
    }
