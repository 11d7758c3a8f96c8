"""Benchmarks: scripts that print figures (docs/benchmarks.md), never timed tests."""
