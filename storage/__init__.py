"""Bytes that must last: blob backends, attachments, binders, archive packages."""
