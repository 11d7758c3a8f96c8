"""Importing this registers review's guards and effects with the engine."""

from review import (  # noqa: F401
    budgets,
    completeness,
    consensus,
    funding,
    keyunits,
    prereview,
    reminders,
    returns,
    revisions,
    rounds,
    site_visit,
    supplements,
)
