"""The demo: one application of each kind driven through fire() to its end, its timeline printed and checked.

`steps` is the vocabulary, `acceptance` and `monitoring` the scenarios (one function each), `runner` drives and
checks them, `files` makes the stand-in scans and signatures, `report` prints what `manage.py demo` shows, `cli`
is the `manage.py demo` command.
"""

from web.core.areas import Area
from web.demo.cli import COMMANDS
from web.demo.runner import DemoResult, run_demo
from web.demo.scenarios import scenarios

__all__ = ["AREA", "DemoResult", "run_demo", "scenarios"]

AREA = Area(name="demo", commands=COMMANDS)
