"""MkDocs hooks: the reference pages are generated from what the code reads, so they cannot drift.

A page asks for a table with a marker comment on a line of its own:
`<!-- generated: config-reference -->` (schemas/config.schema.json),
`<!-- generated: action-reference -->` (action.yml's inputs and outputs) and
`<!-- generated: policy-rules -->` (the rule catalog `envsync policy list` prints).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
Schema = Mapping[str, Any]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _ref_name(schema: Schema) -> str:
    return str(schema["$ref"]).rsplit("/", 1)[-1]


def _type(schema: Schema) -> str:
    """A schema's type in words: `string`, `list of string`, `error \\| warning \\| off`, ..."""
    if "$ref" in schema:
        return _ref_name(schema)
    if "const" in schema:
        return f"`{schema['const']}`"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if "oneOf" in schema:
        return " or ".join(_type(s) for s in schema["oneOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of name → {_type(schema['additionalProperties'])}"
    return " or ".join(kind) if isinstance(kind, list) else str(kind)


def _resolve(schema: Schema, defs: Schema) -> Schema:
    while "$ref" in schema and not schema.get("description"):
        schema = defs[_ref_name(schema)]
    return schema


def schema_rows(schema: Schema, defs: Schema, prefix: str = "") -> Iterator[tuple[str, str, str]]:
    """(key path, type, description) for every property, nested objects included."""
    for key, sub in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        described = sub.get("description") or _resolve(sub, defs).get("description", "")
        yield path, _type(sub), described
        if "properties" in sub:
            yield from schema_rows(sub, defs, f"{path}.")


def _table(rows: Iterator[tuple[str, str, str]]) -> str:
    lines = ["| key | type | meaning |", "|---|---|---|"]
    lines += [f"| `{key}` | {_cell(kind)} | {_cell(text)} |" for key, kind, text in rows]
    return "\n".join(lines)


def _target_branches(defs: Schema) -> Iterator[tuple[str, Schema]]:
    for branch in defs["target"]["allOf"]:
        yield branch["if"]["properties"]["type"]["const"], branch["then"]


def config_reference() -> str:
    schema = json.loads((ROOT / "schemas" / "config.schema.json").read_text())
    defs = schema["$defs"]
    parts = ["### Top level", "", _table(schema_rows(schema, defs))]
    for kind, branch in _target_branches(defs):
        parts += ["", f"### `targets.<name>` with `type: {kind}`", "", _table(schema_rows(branch, defs))]
    parts += ["", "### `policy` (top level and per target)", "", _table(schema_rows(defs["policy"], defs))]
    return "\n".join(parts)


def action_reference() -> str:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    parts = ["### Inputs", "", "| input | default | meaning |", "|---|---|---|"]
    for name, spec in action["inputs"].items():
        default = spec.get("default", "")
        shown = f"`{default}`" if default != "" else "(empty)"
        parts.append(f"| `{name}` | {_cell(shown)} | {_cell(spec['description'])} |")
    parts += ["", "### Outputs", "", "| output | meaning |", "|---|---|"]
    parts += [f"| `{name}` | {_cell(spec['description'])} |" for name, spec in action["outputs"].items()]
    return "\n".join(parts)


def policy_rules() -> str:
    from envsync.spec.policy.catalog import RULES

    lines = ["| rule | default | protects against | fix |", "|---|---|---|---|"]
    for rule in RULES:
        fix = f"{rule.fix} (tune: `{rule.parameters}`)" if rule.parameters else rule.fix
        lines.append(f"| `{rule.id}` | {rule.default.value} | {_cell(rule.protects)} | {_cell(fix)} |")
    return "\n".join(lines)


GENERATORS: dict[str, Callable[[], str]] = {
    "config-reference": config_reference,
    "action-reference": action_reference,
    "policy-rules": policy_rules,
}
_MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.M)


def expand(markdown: str) -> str:
    """The page with each marker replaced by its generated table; an unknown marker is an error."""
    return _MARKER.sub(lambda m: GENERATORS[m.group(1)](), markdown)


def on_page_markdown(markdown: str, **_: Any) -> str:
    return expand(markdown)
