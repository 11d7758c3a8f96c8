"""The admin area: organisations, users and tokens, the programmes' definitions, the audit chain and keys (CLI)."""

from __future__ import annotations

from web.admin import cli_accounts, cli_audit, cli_backup, cli_programmes
from web.core.areas import Area

AREA = Area(
    name="admin", commands=(*cli_accounts.COMMANDS, *cli_programmes.COMMANDS, *cli_audit.COMMANDS, *cli_backup.COMMANDS)
)
