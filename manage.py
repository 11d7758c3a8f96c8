#!/usr/bin/env python3
"""Command line: `python manage.py --help`."""

from __future__ import annotations

from flask.cli import FlaskGroup

from web.app import create_app


def _app():  # type: ignore[no-untyped-def]
    return create_app()


cli = FlaskGroup(create_app=_app, add_default_commands=False, help="Energy-management subsidy workflow (EMC).")

if __name__ == "__main__":
    cli()
