"""Security by default: outside the visibility module, no code loads or lists applications by itself."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("workflow", "web", "review", "notifications", "forms", "storage", "meters")
DIRECT = re.compile(r"session\.get\(Application\b|select\(Application\b|query\(Application\b")


def test_only_the_visibility_function_loads_applications():
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.name != "visibility.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if DIRECT.search(line)
    ]
    assert offenders == [], "load applications through workflow.visibility: " + ", ".join(offenders)
