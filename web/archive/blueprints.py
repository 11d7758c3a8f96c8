"""The archive area's blueprint: its pages (the public key, the binder's build and download)."""

from __future__ import annotations

from flask import Blueprint

pages = Blueprint("archive_pages", __name__, template_folder="templates")
