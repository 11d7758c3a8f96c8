"""The funding area's blueprints: its pages (the budget ledger) and its API (nested under /api/v1 by the factory)."""

from __future__ import annotations

from flask import Blueprint

pages = Blueprint("funding_pages", __name__, template_folder="templates")
api = Blueprint("funding", __name__)
