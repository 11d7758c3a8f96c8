"""The rounds area's blueprint: its pages."""

from __future__ import annotations

from flask import Blueprint

pages = Blueprint("rounds_pages", __name__, template_folder="templates")
