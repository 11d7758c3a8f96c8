"""The applications area's blueprints: its pages, and its API (nested under /api/v1 by the factory)."""

from __future__ import annotations

from flask import Blueprint

pages = Blueprint("applications", __name__, template_folder="templates")
api = Blueprint("applications", __name__)
