"""The shell's published surface stays as it was before the areas moved (issue 11): OpenAPI, URLs and the CLI.

The files under tests/data/shell_baseline/ were written from the code before the move (commit message of their
first commit says so); a change to the surface is made on purpose by rewriting them with tests/support/shell.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.shell import cli_tree, openapi_document, url_map

BASELINE = Path(__file__).resolve().parents[2] / "data" / "shell_baseline"


def _baseline(name: str) -> Any:
    return json.loads((BASELINE / name).read_text(encoding="utf-8"))


def test_openapi_document_is_unchanged(app):
    document = openapi_document(app)
    expected = _baseline("openapi.json")
    assert sorted(document["paths"]) == sorted(expected["paths"])
    assert sorted(document["components"]["schemas"]) == sorted(expected["components"]["schemas"])
    assert document == expected


def test_urls_and_methods_are_unchanged(app):
    assert url_map(app) == _baseline("urls.json")


def test_cli_commands_options_and_help_are_unchanged(app):
    tree = cli_tree(app)
    expected = _baseline("cli.json")
    assert sorted(tree) == sorted(expected)
    assert tree == expected
