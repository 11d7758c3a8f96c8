"""Telling people: outbox -> Celery -> channels (in-app now; e-mail and SMS adapters later)."""
