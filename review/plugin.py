"""Importing this registers review's guards and effects with the engine."""

from review import completeness, consensus, funding, keyunits, prereview, revisions, supplements  # noqa: F401
