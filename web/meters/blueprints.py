"""The meters area's blueprints: its pages (the evidence pictures) and its API (nested under /api/v1 by the factory)."""

from __future__ import annotations

from flask import Blueprint

pages = Blueprint("meter_pages", __name__, template_folder="templates")
api = Blueprint("meters", __name__)
