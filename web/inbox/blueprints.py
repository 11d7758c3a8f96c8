"""The inbox area's blueprints: its pages (the inbox, preferences, the administrator's mail tools) and its API."""

from __future__ import annotations

from flask import Blueprint

pages = Blueprint("inbox_pages", __name__, template_folder="templates")
api = Blueprint("inbox", __name__)
