"""State diagrams drawn from definitions: Mermaid text and a standalone SVG."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from workflow import definitions, diagram
from workflow.definitions import Definition, canonical_json, parse

SVG = "{http://www.w3.org/2000/svg}"
SHIPPED = definitions.shipped()


def tiny() -> Definition:
    """Four states: a loop back, a state two steps deep, and a terminal reached from two places."""
    return parse(
        {
            "code": "tiny",
            "version": 3,
            "title": {"zh": "小程序 <测试> & 校验", "en": "Tiny <test> & check"},
            "initial": "a",
            "states": {
                "a": {"label": {"zh": "甲", "en": "A"}},
                "b": {"label": {"zh": "乙", "en": "B"}},
                "c": {"label": {"zh": '丙 "引号"', "en": "C"}},
                "done": {"label": {"zh": "完成", "en": "Done"}, "terminal": True},
            },
            "transitions": [
                {"trigger": "go", "source": "a", "dest": "b", "roles": ["applicant"]},
                {"trigger": "back", "source": "b", "dest": "a", "roles": ["applicant"]},
                {"trigger": "on", "source": "b", "dest": "c", "roles": ["applicant"]},
                {"trigger": "finish", "source": ["a", "c"], "dest": "done", "roles": ["applicant", "system"]},
            ],
            "scopes": {"applicant": "own_organisation"},
        }
    )


@pytest.mark.parametrize("definition", SHIPPED, ids=lambda d: d.label)
def test_mermaid_has_every_state_and_one_labelled_edge_per_source_and_trigger(definition: Definition):
    text = diagram.mermaid(definition)
    assert "stateDiagram-v2" in text
    for name in definition.states:
        assert re.search(rf'state ".*\({name}\)" as {name}$', text, re.M), name
    edges = re.findall(r"^    (\w+) --> (\w+) : (\w+) \((.*)\)$", text, re.M)
    expected = [(s, t.dest, t.trigger, ", ".join(t.roles)) for t in definition.transitions for s in t.sources]
    assert edges == expected
    assert f"    [*] --> {definition.initial}" in text


def test_mermaid_marks_terminal_states_and_only_those():
    text = diagram.mermaid(tiny())
    assert re.findall(r"^    (\w+) --> \[\*\]$", text, re.M) == ["done"]
    assert "    [*] --> a" in text


def test_mermaid_speaks_the_asked_language_and_keeps_its_syntax_intact():
    zh, en = diagram.mermaid(tiny(), "zh"), diagram.mermaid(tiny(), "en")
    assert 'state "甲 (a)" as a' in zh
    assert 'state "A (a)" as a' in en
    # A double quote inside a label would end the state's description early.
    assert "丙 '引号' (c)" in zh


def test_layers_follow_bfs_depth_with_terminal_states_last():
    assert diagram.layers(tiny()) == [["a"], ["b"], ["c"], ["done"]]


@pytest.mark.parametrize("definition", SHIPPED, ids=lambda d: d.label)
def test_layers_place_every_state_once_initial_first_terminal_last(definition: Definition):
    rows = diagram.layers(definition)
    placed = [name for row in rows for name in row]
    assert sorted(placed) == sorted(definition.states)
    assert rows[0] == [definition.initial]
    assert set(rows[-1]) == {n for n, s in definition.states.items() if s.terminal}


def _boxes(root: ET.Element) -> dict[str, tuple[float, float, float, float]]:
    out = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "state":
            rect = group.find(f"{SVG}rect")
            assert rect is not None
            name = group.get("id", "").removeprefix("state-")
            out[name] = tuple(float(rect.get(k, "0")) for k in ("x", "y", "width", "height"))
    return out


@pytest.mark.parametrize("definition", [*SHIPPED, tiny()], ids=lambda d: d.label)
def test_svg_parses_and_draws_every_state_and_every_trigger(definition: Definition):
    root = ET.fromstring(diagram.svg(definition))
    assert root.tag == f"{SVG}svg"
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert set(_boxes(root)) == set(definition.states)
    for name in definition.states:
        assert name in texts
        assert definition.state_label(name, "zh") in texts
    labels = [t for t in root.iter(f"{SVG}text") if t.get("class") == "edge-label"]
    drawn = sorted(t.text or "" for t in labels)
    assert drawn == sorted(diagram.edge_label(t.trigger, t.roles) for t in definition.transitions for _ in t.sources)
    assert len([p for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]) == len(labels)


@pytest.mark.parametrize("definition", [*SHIPPED, tiny()], ids=lambda d: d.label)
def test_svg_boxes_do_not_overlap_and_rows_follow_the_layers(definition: Definition):
    boxes = _boxes(ET.fromstring(diagram.svg(definition)))
    names = sorted(boxes)
    for i, a in enumerate(names):
        ax, ay, aw, ah = boxes[a]
        for b in names[i + 1 :]:
            bx, by, bw, bh = boxes[b]
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, (a, b)
    row_tops = [{boxes[n][1] for n in row} for row in diagram.layers(definition)]
    assert all(len(tops) == 1 for tops in row_tops)
    tops = [next(iter(t)) for t in row_tops]
    assert tops == sorted(tops)


def test_svg_uses_english_labels_when_asked():
    root = ET.fromstring(diagram.svg(tiny(), "en"))
    texts = {"".join(t.itertext()) for t in root.iter(f"{SVG}text")}
    assert {"A", "B", "C", "Done"} <= texts
    assert "甲" not in texts


@pytest.mark.parametrize("definition", SHIPPED, ids=lambda d: d.label)
def test_drawings_from_the_database_equal_those_from_the_file(definition: Definition):
    """The database hands a definition back with its keys sorted; the drawings must not change."""
    stored = parse(json.loads(canonical_json(definition.raw)))
    assert list(stored.raw["states"]) != list(definition.raw["states"])  # the premise: the key order differs
    assert list(stored.states) == list(definition.states)  # and the parser restores the flow order
    assert diagram.mermaid(stored) == diagram.mermaid(definition)
    assert diagram.svg(stored) == diagram.svg(definition)


def test_svg_is_the_same_whatever_the_hash_seed():
    """Deterministic output: two interpreters with different string hashing draw identical files."""
    script = (
        "import sys; from workflow import definitions, diagram; sys.stdout.write(diagram.svg(definitions.shipped()[0]))"
    )
    root = Path(__file__).resolve().parents[3]
    digests = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, check=True)
        digests.add(hashlib.sha256(out.stdout).hexdigest())
    assert digests == {hashlib.sha256(diagram.svg(SHIPPED[0]).encode()).hexdigest()}
