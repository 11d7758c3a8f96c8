"""What the shell publishes, as plain data: the OpenAPI document, the URL map and the CLI, for the snapshot test."""

from __future__ import annotations

import json
from typing import Any

import click
from flask import Flask

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def openapi_document(app: Flask) -> dict[str, Any]:
    """The document as GET /api/v1/openapi.json publishes it."""
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200, response.status_code
    return json.loads(response.get_data(as_text=True))


def url_map(app: Flask) -> list[str]:
    """Every route as 'METHOD /rule', sorted; endpoint names are the shell's own business and left out."""
    return sorted(
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - IGNORED_METHODS
    )


def _command(command: click.Command, path: str) -> dict[str, Any]:
    described: dict[str, Any] = {
        "help": command.help or "",
        "params": [
            {
                "name": param.name,
                "opts": list(param.opts),
                "required": param.required,
                "help": getattr(param, "help", None),
                "default": repr(param.default) if not callable(param.default) else "<callable>",
                "type": param.type.name,
            }
            for param in command.params
        ],
    }
    if isinstance(command, click.Group):
        described["commands"] = {
            name: _command(sub, f"{path} {name}") for name, sub in sorted(command.commands.items())
        }
    return described


def cli_tree(app: Flask) -> dict[str, Any]:
    """The project's own commands (manage.py adds Flask's run, shell and routes), with their help and options."""
    own = {name: cmd for name, cmd in app.cli.commands.items()}
    return {name: _command(cmd, name) for name, cmd in sorted(own.items())}
