"""A form version as JSON Schema (draft 2020-12): what a complete submission looks like, field by field."""

from __future__ import annotations

from typing import Any

from forms import fields as F
from forms.fields import FormVersion
from forms.rules import LANDLINE, MOBILE
from forms.uscc import ALPHABET
from workflow.accounts import DISTRICTS

_NUMBER = {"type": ["number", "string"], "pattern": r"^\d+(\.\d+)?$", "minimum": 0}


def _property(f: F.Field) -> dict[str, Any]:
    base: dict[str, Any] = {"title": f.zh, "x-title-en": f.en}
    if f.type in (F.TEXT, F.LONG_TEXT):
        return {**base, "type": "string", "maxLength": f.max_length}
    if f.type == F.USCC:
        return {**base, "type": "string", "pattern": f"^[{ALPHABET}]{{18}}$", "x-check": "GB 32100 check digit"}
    if f.type == F.PHONE:
        return {**base, "type": "string", "pattern": f"{MOBILE.pattern}|{LANDLINE.pattern}"}
    if f.type == F.DATE:
        return {**base, "type": "string", "format": "date"}
    if f.type == F.MONEY:
        return {**base, **_NUMBER, "x-decimals": 2, "x-unit": "万元"}
    if f.type == F.ENERGY:
        return {**base, **_NUMBER, "x-decimals": 4, "x-unit": "tce"}
    if f.type == F.COUNT:
        return {**base, "type": "integer", "minimum": 0}
    if f.type == F.FLAG:
        return {**base, "type": "boolean"}
    if f.type == F.DISTRICT:
        return {**base, "type": "string", "enum": list(DISTRICTS)}
    if f.type == F.CHOICE:
        return {**base, "type": "string", "enum": [key for key, _, _ in f.choices], "x-choices": _labels(f)}
    if f.type == F.CHOICES:
        items = {"type": "string", "enum": [key for key, _, _ in f.choices]}
        return {**base, "type": "array", "items": items, "minItems": 1, "uniqueItems": True, "x-choices": _labels(f)}
    if f.type == F.PERCENT:
        return {**base, **_NUMBER, "maximum": 100, "x-decimals": 2, "x-unit": "%"}
    if f.type == F.NUMBER:
        return {**base, **_NUMBER, "x-decimals": 4}
    raise ValueError(f"no schema for field type {f.type}")


def _labels(f: F.Field) -> dict[str, dict[str, str]]:
    return {key: {"zh": zh, "en": en} for key, zh, en in f.choices}


def json_schema(form: FormVersion, kind: str) -> dict[str, Any]:
    fields = form.fields_for(kind)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:emc:form:{form.label}:{kind}",
        "title": form.title.get("zh", form.code),
        "x-title-en": form.title.get("en", form.code),
        "x-form": form.label,
        "x-kind": kind,
        "type": "object",
        "additionalProperties": False,
        "properties": {f.key: _property(f) for f in fields},
        "required": [f.key for f in fields if f.required],
        "x-rules": list(form.rules),
        "x-thresholds": {k: _plain(v) for k, v in form.thresholds.items()},
        "x-computed": "access ratios and park shares are computed from the counts, never entered",
    }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return str(value)
