"""The OpenAPI conformance check: real responses against the schema the document gives."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator


class Conformance:
    """Checks real responses against the schema the document gives for that path, method and status."""

    def __init__(self, document: dict[str, Any]):
        self.document = document

    def check(self, response: Any, path: str, method: str) -> None:
        operation = self.document["paths"][path][method]
        documented = operation["responses"].get(str(response.status_code))
        assert documented is not None, f"{method.upper()} {path} answered {response.status_code}, undocumented"
        if "$ref" in documented:
            documented = self.document["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
        content = documented["content"]
        assert response.mimetype in content, f"{response.mimetype} not documented for {method.upper()} {path}"
        schema = {**content[response.mimetype]["schema"], "components": self.document["components"]}
        if schema.get("format") == "binary":
            assert response.data, f"{method.upper()} {path} {response.status_code}: an empty body"
            return
        errors = sorted(Draft202012Validator(schema).iter_errors(response.get_json()), key=str)
        assert not errors, f"{method.upper()} {path} {response.status_code}: " + "; ".join(e.message for e in errors)
        for header in documented.get("headers", {}):
            if header != "Idempotent-Replayed":
                assert header in response.headers, f"{header} missing from {method.upper()} {path}"
