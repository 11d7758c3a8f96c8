"""Live meter evidence: registry, readings, evidence checks and frozen snapshots (a later issue)."""
