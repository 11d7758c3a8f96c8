"""The panel area's blueprints: its pages, and its API (nested under /api/v1 by the factory)."""

from __future__ import annotations

from flask import Blueprint

pages = Blueprint("panel", __name__, template_folder="templates")
api = Blueprint("panel", __name__)
