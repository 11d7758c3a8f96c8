"""The archive area's blueprint: its one page (the public key)."""

from __future__ import annotations

from flask import Blueprint

pages = Blueprint("archive_pages", __name__)
