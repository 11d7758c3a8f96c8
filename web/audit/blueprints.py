"""The audit area's blueprints: the auditor's pages (the events, verifying the chain) and its API."""

from __future__ import annotations

from flask import Blueprint

pages = Blueprint("audit_pages", __name__, template_folder="templates")
api = Blueprint("audit", __name__)
