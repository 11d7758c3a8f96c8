"""Security by default: outside the visibility module, no code loads or lists applications by itself."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Every package of the product (a new one is covered without being listed); tests and benchmarks set up data.
PACKAGES = tuple(
    sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name not in {"tests", "bench"})
)
# Any session's get (`tx.get`, `db.session.get`), select or query of the model, however it is named or wrapped.
DIRECT = re.compile(r"(?:\.get|\bselect|\.query)\(\s*(?:[A-Za-z_]\w*\.)*Application\b")


@pytest.mark.parametrize(
    "line",
    [
        "app = session.get(Application, 1)",
        "app = tx.get(Application, application_id, with_for_update=True)",
        "rows = session.scalars(select(models.Application).where(...))",
        "rows = session.scalars(select(\n    Application.id))",
        "db.session.query(workflow.models.Application)",
    ],
)
def test_the_rule_sees_every_way_of_loading_an_application(line):
    assert DIRECT.search(line)


@pytest.mark.parametrize(
    "line", ["select(ApplicationForm)", "session.get(Attachment, 1)", "select(_applications.c.id)"]
)
def test_the_rule_leaves_other_models_alone(line):
    assert not DIRECT.search(line)


def test_only_the_visibility_function_loads_applications():
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "visibility.py":
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [
                f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}" for m in DIRECT.finditer(text)
            ]
    assert offenders == [], "load applications through workflow.visibility: " + ", ".join(offenders)


def test_the_rule_covers_every_package_of_the_product():
    assert {"workflow", "web", "review", "applications", "meters", "storage", "forms", "notifications"} <= set(PACKAGES)
