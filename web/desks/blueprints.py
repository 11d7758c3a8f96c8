"""The desks area's blueprints: its pages, and its API (nested under /api/v1 by the factory)."""

from __future__ import annotations

from flask import Blueprint

pages = Blueprint("desks", __name__, template_folder="templates")
api = Blueprint("desks", __name__)
