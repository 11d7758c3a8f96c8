"""The archive area: binders (`manage.py binder build`); the archive packages follow (issue 13)."""

from __future__ import annotations

from web.archive import cli
from web.core.areas import Area

AREA = Area("archive", commands=cli.COMMANDS)
