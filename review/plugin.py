"""Importing this registers review's guards and effects with the engine."""

from review import completeness, consensus, funding, prereview, revisions, site_visit, supplements  # noqa: F401
