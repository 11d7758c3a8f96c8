"""Importing this registers review's guards and effects with the engine."""

from review import funding, revisions, supplements  # noqa: F401
