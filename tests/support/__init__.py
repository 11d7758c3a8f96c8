"""Helpers the tests share: API tokens and problems, logged-in pages, the OpenAPI conformance check, uploads."""
