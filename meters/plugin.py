"""Importing this registers the meters stage's guard and its outbox tasks with the engine."""

from meters import guards, tasks  # noqa: F401
