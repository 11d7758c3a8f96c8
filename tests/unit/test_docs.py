"""Docs that stay true: the diagrams in docs/architecture.md are the ones the definitions draw."""

from pathlib import Path

from workflow import definitions, diagram

ROOT = Path(__file__).resolve().parents[2]


def test_architecture_diagrams_match_the_shipped_definitions():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert diagram.replace_docs_section(text, definitions.shipped()) == text, (
        "docs/architecture.md is out of date: run `python manage.py workflow docs`"
    )


def test_every_shipped_programme_has_a_diagram_in_the_docs():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for d in definitions.shipped():
        assert f"`{d.label}`" in text
        for trigger in d.triggers:
            assert f": {trigger} (" in text


def test_the_readme_quick_start_has_the_test_command_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line for line in readme.splitlines() if line.startswith("python3 -m venv .venv && ")]
    assert len(commands) == 2, "Quick start is exactly two commands: run the app, run the tests"
    assert "manage.py serve" in commands[0] and "init --demo" in commands[0]
    assert commands[1].endswith("pytest")
    assert 'grep -E "^python3 -m venv \\.venv && .*pytest" README.md' in ci
