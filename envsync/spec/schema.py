"""jsonschema errors of `schemas/environment.schema.json` → findings users can act on.

The schema is the structural contract (and what editors see); this module only words its
errors: by keyword, preferring the schema's own `errorMessage`, with did-you-mean suggestions
for unknown keys and a specific message for each legacy or misplaced key az ml rejects.
"""

from __future__ import annotations

import difflib
from typing import Any

from envsync.spec.problems import Finding, dotted, with_hint, yaml_kind
from envsync.spec.schemas import validator
from envsync.spec.yamlio import Key

# Top-level keys that belong elsewhere, and what to write instead.
_MISPLACED = {
    "docker": (
        "'docker:' is the 2021 preview schema, which az ml no longer accepts: write "
        "'image: <image>' instead of 'docker: {image: ...}', or "
        "'build: {path: <folder>, dockerfile_path: <file>}' instead of 'docker: {build: ...}'"
    ),
    "channels": (
        "top-level 'channels' is a conda key, which az ml rejects: put the conda spec under 'conda_file:'"
    ),
    "dependencies": (
        "top-level 'dependencies' is a conda key, which az ml rejects: put the conda spec under 'conda_file:'"
    ),
    "path": "unknown key 'path' (did you mean 'build.path'?)",
    "local_path": "unknown key 'local_path' (did you mean 'build.path'?)",
    "dockerfile_path": "unknown key 'dockerfile_path' (did you mean 'build.dockerfile_path'?)",
}
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "a mapping",
    "array": "a list",
    "null": "empty",
}
# What content errors under conda_file are worded by envsync.spec.conda (same rules as conda files).
_CONDA_CONTENT = ("conda_file",)


def schema_findings(data: Any) -> list[Finding]:
    """Every way `data` (a loaded environment mapping) breaks the environment schema."""
    found: list[Finding] = []
    for error in validator("environment").iter_errors(data):
        path: Key = tuple(error.absolute_path)
        if path[:1] == _CONDA_CONTENT and len(path) > 1:
            continue
        found.extend(_findings(error, path))
    return found


def _findings(error: Any, path: Key) -> list[Finding]:
    keyword = error.validator
    if keyword == "anyOf" and not path and "docker" in error.instance:
        return []  # the 'docker:' message already says what to write instead of image/build
    if keyword == "additionalProperties":
        props = error.schema["properties"]
        return [_unknown_key(path, k, props) for k in error.instance if k not in props]
    if keyword == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        where = f"{dotted(path)}: " if path else ""
        return [Finding(path, f"{where}missing required key '{k}'") for k in missing]
    if keyword == "dependentSchemas" or "dependentSchemas" in error.schema_path:
        owner = list(error.schema_path)[list(error.schema_path).index("dependentSchemas") + 1]
        return [Finding((*path, owner), _own_message(error) or error.message, at_key=True)]
    return [Finding(_located(error, path), _message(error, path), at_key=_on_key(error))]


def _unknown_key(path: Key, key: Any, known: dict[str, Any]) -> Finding:
    # Marks are recorded under the key's source text, so a YAML `1:` key is located as "1".
    if not path and key in _MISPLACED:
        return Finding((key,), _MISPLACED[key], at_key=True)
    name = f"{dotted(path)}.{key}" if path else str(key)
    close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return Finding((*path, str(key)), f"unknown key '{name}'{hint}", at_key=True)


def _located(error: Any, path: Key) -> Key:
    # "not both" rules point at the second of the two keys: the one to remove.
    value = error.validator_value
    if error.validator == "not" and isinstance(value, dict) and "required" in value:
        return (*path, value["required"][-1])
    return path


def _on_key(error: Any) -> bool:
    value = error.validator_value
    return error.validator == "not" and isinstance(value, dict) and "required" in value


def _own_message(error: Any) -> str | None:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "pattern" and "patternErrorMessage" in schema:
        return str(schema["patternErrorMessage"])
    return str(schema["errorMessage"]) if "errorMessage" in schema else None


def _message(error: Any, path: Key) -> str:
    subject = dotted(path) or "the environment"
    shown = f" {error.instance!r}" if isinstance(error.instance, (str, int, float)) else ""
    own = _own_message(error)
    if own and error.validator in ("not", "anyOf") and not isinstance(error.instance, str):
        return own
    if own:
        return with_hint(f"{subject}{shown} {own}", error.instance)
    return with_hint(_generic(error, subject, shown), error.instance)


def _generic(error: Any, subject: str, shown: str) -> str:
    keyword, value = error.validator, error.validator_value
    if keyword == "type":
        wanted = [value] if isinstance(value, str) else list(value)
        phrases = [_TYPE_NAMES[t] for t in wanted if not (t == "integer" and "number" in wanted)]
        either = " or ".join([", ".join(phrases[:-1]), phrases[-1]] if len(phrases) > 1 else phrases)
        return f"{subject} must be {either}, not {yaml_kind(error.instance)}"
    if keyword == "minLength":
        return f"{subject} must not be empty"
    if keyword in ("minimum", "maximum"):
        low, high = error.schema.get("minimum"), error.schema.get("maximum")
        return f"{subject}{shown} must be between {low} and {high}"
    return f"{subject}: {error.message}"
