"""The JSON Schemas in `schemas/`, loaded once, and jsonschema errors turned into locations."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


@cache
def schema(name: str) -> dict[str, Any]:
    """`name` is the file stem: environment, config, plan."""
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
    return loaded


@cache
def validator(name: str) -> Any:
    import jsonschema  # imported lazily: it costs start-up time for commands that never validate

    cls = jsonschema.validators.validator_for(schema(name))
    return cls(schema(name), format_checker=cls.FORMAT_CHECKER)


def in_words(error: Any) -> str:
    """jsonschema's message, but a pattern as the rule it stands for (the schema's
    `patternErrorMessage`), not as a regex."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "pattern" and "patternErrorMessage" in schema:
        return f"{error.instance!r} {schema['patternErrorMessage']}"
    return str(error.message)
