"""The demo: one application of each kind driven through fire() to its end, its timeline printed and checked.

`steps` is the vocabulary; one module per scenario: `acceptance_enterprise`, `acceptance_data_centre`,
`acceptance_park` (the acceptance per applicant kind) and `monitoring` (the monitoring fund), listed in order by
`scenarios`; `waiting` leaves one application at each desk. `runner` drives and checks them, `files` makes the
stand-in scans and signatures, `report` prints what `manage.py demo` shows, `cli` is the `manage.py demo` command.
"""

from web.core.areas import Area
from web.demo.cli import COMMANDS
from web.demo.runner import DemoResult, run_demo
from web.demo.scenarios import scenarios

__all__ = ["AREA", "DemoResult", "run_demo", "scenarios"]

AREA = Area(name="demo", commands=COMMANDS)
