"""The meters area: the meter registry's commands (pages, API and evidence follow with the meter-evidence issue)."""

from __future__ import annotations

from web.core.areas import Area
from web.meters import cli

AREA = Area("meters", commands=cli.COMMANDS)
