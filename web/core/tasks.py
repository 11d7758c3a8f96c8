"""Celery wired into Flask (Flask's own pattern): tasks run inside the app context."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task, shared_task
from flask import Flask, current_app

from workflow import outbox


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.config_from_object(app.config["CELERY"])
    celery.set_default()
    app.extensions["celery"] = celery
    eager = bool(app.config["CELERY"].get("task_always_eager"))

    def send(task_name: str, kwargs: dict[str, Any]) -> None:
        task = celery.tasks.get(task_name)
        if eager:
            if task is None:
                raise LookupError(f"no task named '{task_name}' is registered")
            result = task.apply(kwargs=kwargs)
            if result.failed():
                raise RuntimeError(f"{task_name} failed: {result.result!r}")
        else:
            celery.send_task(task_name, kwargs=kwargs)

    def wake_relay() -> None:
        if eager:
            outbox.relay()
        else:
            celery.send_task("workflow.relay_outbox")

    outbox.configure(send, wake_relay)
    return celery


@shared_task(name="storage.sweep_staging", ignore_result=True)
def sweep_staging() -> int:
    """Delete upload staging files a killed process left behind (older than STAGING_MAX_AGE_HOURS)."""
    from web.core.extensions import blob_store

    hours = float(current_app.config["STAGING_MAX_AGE_HOURS"])
    return blob_store(current_app).sweep_staging(hours * 3600)
