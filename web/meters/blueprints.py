"""The meters area's blueprints: its API (nested under /api/v1 by the factory); its pages come with the evidence."""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("meters", __name__)
