"""The overview area's blueprints: the commission's dashboard page with its pictures, and its API."""

from __future__ import annotations

from flask import Blueprint

pages = Blueprint("overview_pages", __name__, template_folder="templates")
api = Blueprint("overview", __name__)
