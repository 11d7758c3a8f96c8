"""The notifications stage's settings, from the app's configuration: the channels (built once per app), the public
URL for links, the delivery lease and the reminders' options."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Flask, current_app

from notifications import channels as channel_kinds
from notifications import tasks
from notifications.delivery import Settings


def settings(app: Flask) -> Settings:
    found = app.extensions.get("notification_settings")
    if found is None:
        config = app.config
        found = app.extensions["notification_settings"] = Settings(
            base_url=config["PUBLIC_URL"],
            channels=channel_kinds.from_config(config),
            lease=dt.timedelta(seconds=config["DELIVERY_LEASE_SECONDS"]),
            host=urlsplit(config["PUBLIC_URL"]).hostname or "emc.localhost",
            reminder_options={"approval_days": config["APPROVAL_REMINDER_DAYS"]},
        )
    return found


def init_app(app: Flask) -> None:
    tasks.configure(lambda: settings(current_app))
