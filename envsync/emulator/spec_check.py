"""An independent check of the ARM requests the emulator receives, against the REST spec.

`specs/azureml-mfe-2025-12-01-environments.json` is a subset of Azure's own
`Microsoft.MachineLearningServices/stable/2025-12-01/mfe.json` (Azure/azure-rest-api-specs): the
operations envsync calls, their query parameters, and the definitions of their bodies, in
Swagger 2.0's dialect. The client and the emulator share `armjson`, so a misreading of the
service there would pass unseen; this check reads the spec instead: the method and path (names
by their patterns), the query parameters and their types, and the body (no field the spec does
not define, none it marks read-only, types, enums, required fields). A request at the spec's
api-version that breaks it is answered 400 with the violation.

Swagger's `allOf` means inheritance (AutoRest), not JSON Schema's intersection, so each definition
is flattened first: its ancestors' properties and required fields merged, closed when any of
them says `additionalProperties: false`; a polymorphic base becomes a choice of its subtypes, each
with its discriminator pinned; `x-nullable` admits null; read-only properties are refused in a
request. Then jsonschema validates.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib.resources import files
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import best_match

from envsync.workspace import names

SPEC_FILE = "azureml-mfe-2025-12-01-environments.json"


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    segments: tuple[str, ...]  # the path under the workspace; "{name}" marks a parameter
    query: Mapping[str, Any]
    body: str | None  # a definition's name
    responses: Mapping[str, str]
    name_pattern: str | None = None
    segment_patterns: Mapping[int, str] = field(default_factory=dict)  # a deployment's name

    def matches(self, method: str, parts: list[str]) -> bool:
        if method != self.method or len(parts) != len(self.segments):
            return False
        return all(s.startswith("{") or s == p for s, p in zip(self.segments, parts, strict=True))


@dataclass(frozen=True)
class Spec:
    doc: Mapping[str, Any]
    operations: tuple[Operation, ...] = field(default=())

    @property
    def api_version(self) -> str:
        return str(self.doc["_source"]["api-version"])

    def operation(self, method: str, parts: list[str]) -> Operation | None:
        return next((op for op in self.operations if op.matches(method, parts)), None)

    def request_problem(
        self, method: str, workspace: str, parts: list[str], query: Mapping[str, str], body: bytes
    ) -> str | None:
        """What makes the request break the spec, or None. `parts` are the decoded path
        segments under the workspace."""
        op = self.operation(method, parts)
        if op is None:
            return f"the spec has no operation {method} /{'/'.join(parts)}"
        pattern = self.doc["parameters"]["WorkspaceNameParameter"]["pattern"]
        if not names.anchored(pattern).match(workspace):
            return f"workspaceName {workspace!r} does not match {pattern}"
        patterns = {1: op.name_pattern, **op.segment_patterns} if op.name_pattern else op.segment_patterns
        for index, pattern in patterns.items():
            if pattern and not names.anchored(pattern).match(parts[index]):
                return f"name {parts[index]!r} does not match {pattern}"
        return self._query_problem(op, query) or self._body_problem(op, body)

    def response_problem(self, method: str, parts: list[str], status: int, payload: Any) -> str | None:
        op = self.operation(method, parts)
        name = op.responses.get(str(status)) if op else None
        if name is None:
            return None
        return _problem(self._validator(name, "response"), payload, "response")

    def _query_problem(self, op: Operation, query: Mapping[str, str]) -> str | None:
        for key, value in query.items():
            if key == "api-version":
                continue
            declared = op.query.get(key)
            if declared is None:
                known = ", ".join(sorted(["api-version", *op.query]))
                return f"query parameter {key!r} is not one of {op.id}'s ({known})"
            param = self.doc["parameters"].get(declared.get("$param", ""), declared)
            if param.get("enum") and value not in param["enum"]:
                return f"query parameter {key}={value!r} is not one of {param['enum']}"
            if param.get("type") == "integer" and not re.fullmatch(r"-?\d+", value):
                return f"query parameter {key}={value!r} is not an integer"
        return None

    def _body_problem(self, op: Operation, body: bytes) -> str | None:
        if op.body is None:
            return None  # listSecrets: no body at this api-version (older clients send one)
        try:
            doc = json.loads(body or b"null")
        except ValueError:
            return "the body is not JSON"
        return _problem(self._validator(op.body, "request"), doc, "body")

    def _validator(self, name: str, mode: str) -> Draft4Validator:
        return self._validators[mode][name]

    @cached_property
    def _validators(self) -> dict[str, dict[str, Draft4Validator]]:
        out: dict[str, dict[str, Draft4Validator]] = {}
        for mode in ("request", "response"):
            flat = _Flattener(self.doc["definitions"], mode).all()
            out[mode] = {
                name: Draft4Validator(
                    {"$ref": f"#/definitions/{name}", "definitions": flat}, format_checker=FormatChecker()
                )
                for name in self.doc["definitions"]
            }
        return out


def _problem(validator: Draft4Validator, doc: Any, where: str) -> str | None:
    error = best_match(validator.iter_errors(doc))
    if error is None:
        return None
    path = ".".join(str(p) for p in error.absolute_path)
    return f"{where}{'.' + path if path else ''}: {error.message}"


class _Flattener:
    """Swagger 2.0 definitions as plain JSON Schema (draft 4), AutoRest's way (module doc)."""

    def __init__(self, definitions: Mapping[str, Any], mode: str):
        self.defs, self.mode = definitions, mode

    def all(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, definition in self.defs.items():
            subtypes = self._subtypes(name) if definition.get("discriminator") else []
            if not subtypes:
                out[name] = self._flat(name)
                continue
            key = definition["discriminator"]
            values = [self.defs[s]["x-ms-discriminator-value"] for s in subtypes]
            other = {"allOf": [self._flat(name), {"properties": {key: {"not": {"enum": values}}}}]}
            out[name] = {"oneOf": [{"$ref": f"#/definitions/{s}"} for s in subtypes] + [other]}
        return out

    def _ancestors(self, name: str) -> list[str]:
        found: list[str] = []
        for parent in self.defs[name].get("allOf", []):
            base = _ref_name(parent["$ref"])
            found += [*self._ancestors(base), base]
        return found

    def _subtypes(self, name: str) -> list[str]:
        return [
            n for n, d in self.defs.items() if "x-ms-discriminator-value" in d and name in self._ancestors(n)
        ]

    def _flat(self, name: str) -> dict[str, Any]:
        definition = self.defs[name]
        if definition.get("type") != "object":
            return self._property(definition)
        properties: dict[str, Any] = {}
        required: set[str] = set()
        closed, discriminator = False, None
        for part in [*self._ancestors(name), name]:
            d = self.defs[part]
            for prop, schema in d.get("properties", {}).items():
                read_only = schema.get("readOnly") or self.defs.get(
                    _ref_name(schema.get("$ref", "")), {}
                ).get("readOnly")
                properties[prop] = (
                    {"not": {}} if self.mode == "request" and read_only else self._property(schema)
                )
            required |= set(d.get("required", []))
            closed |= d.get("additionalProperties") is False
            discriminator = d.get("discriminator", discriminator)
        if discriminator and "x-ms-discriminator-value" in definition:
            properties[discriminator] = {"enum": [definition["x-ms-discriminator-value"]]}
        flat: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            flat["required"] = sorted(required)
        if closed:
            flat["additionalProperties"] = False
        return flat

    def _property(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        # Patterns and lengths constrain what clients send: the service's own answers break
        # them (curated environments' routes have the path "/", which `Route.path` refuses).
        keywords = _KEYWORDS if self.mode == "request" else _KEYWORDS - {"pattern", "minLength", "maxLength"}
        kept = {k: copy.deepcopy(v) for k, v in schema.items() if k in keywords}
        if "$ref" in schema:  # draft 4 ignores a $ref's siblings (default, mutability)
            kept = {"$ref": f"#/definitions/{_ref_name(schema['$ref'])}"}
        if isinstance(kept.get("additionalProperties"), dict):
            kept["additionalProperties"] = self._property(kept["additionalProperties"])
        if isinstance(kept.get("items"), dict):
            kept["items"] = self._property(kept["items"])
        return {"anyOf": [kept, {"type": "null"}]} if schema.get("x-nullable") else kept


_KEYWORDS = frozenset(
    {"type", "$ref", "enum", "pattern", "minLength", "maxLength", "format", "items", "additionalProperties"}
)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def load_spec() -> Spec:
    doc = json.loads(files("envsync.emulator").joinpath("specs", SPEC_FILE).read_text(encoding="utf-8"))
    operations = tuple(
        Operation(
            id=op["operationId"],
            method=op["method"],
            segments=tuple(op["path"].strip("/").split("/")),
            query=op.get("query") or {},
            body=op.get("body"),
            responses=op.get("responses") or {},
            name_pattern=op.get("name_pattern"),
            segment_patterns={int(k): v for k, v in (op.get("segment_patterns") or {}).items()},
        )
        for op in doc["operations"]
    )
    return Spec(doc, operations)
