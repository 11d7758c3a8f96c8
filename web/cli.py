"""CLI commands registered on the app (manage.py is the FlaskGroup)."""

from flask import Flask


def register(app: Flask) -> None:
    pass
