"""Typed reads of the fields of an answer: each is what mfe.json (2025-12-01) says it is, or an
error naming the field and the request.

A field that is absent or null reads as its default, as the spec lets most be; anything else of
the wrong type (a string where an object belongs, `tags` as a list, `condaFile: 5`) raises
`BadField`, which the code that sent the request turns into one line naming it: `answered`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from envsync.errors import WorkspaceError
from envsync.text.escape import terminal


class BadField(WorkspaceError):
    """A field of an answer has the wrong type; `answered` adds the request to the message."""


@contextmanager
def answered(op: str) -> Iterator[None]:
    """Reads of the answer to `op` (`GET environments/x/versions`): a `BadField` gets its name."""
    try:
        yield
    except BadField as e:
        raise WorkspaceError(f"{op}: {e}") from None


def _kind(value: Any) -> str:
    """What `value` is, for a message (never the value itself, except a number)."""
    if value is None or value == "":
        return "null" if value is None else "an empty string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    kinds = ((str, "a string"), (list, "a list"), (Mapping, "an object"))
    return next((label for kind, label in kinds if isinstance(value, kind)), type(value).__name__)


def bad(path: str, value: Any, expected: str) -> BadField:
    return BadField(f"the answer's '{path}' is {_kind(value)}, expected {expected}")


def obj(doc: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> Mapping[str, Any]:
    """`doc[key]` as an object ({} when absent or null, unless `required`)."""
    value = doc.get(key)
    if isinstance(value, dict):  # parsed JSON is dicts: an ABC (Mapping) check costs 3x
        return value
    if value is None and not required:
        return {}
    raise bad(path, value, "an object")


def text(doc: Mapping[str, Any], key: str, path: str) -> str | None:
    """`doc[key]` as a string (None when absent or null)."""
    value = doc.get(key)
    if value is None or isinstance(value, str):
        return value
    raise bad(path, value, "a string")


def name(doc: Mapping[str, Any], path: str = "name") -> str:
    """A resource's `name`: a non-empty string."""
    value = doc.get("name")
    if isinstance(value, str) and value:
        return value
    raise bad(path, value, "a non-empty string")


def flag(doc: Mapping[str, Any], key: str, path: str) -> bool:
    value = doc.get(key)
    if value is None or isinstance(value, bool):
        return bool(value)
    raise bad(path, value, "true or false")


def string_map(doc: Mapping[str, Any], key: str, path: str) -> dict[str, str]:
    """A tags or properties map: string values (the spec lets them be null, which reads as "")."""
    found = obj(doc, key, path)
    for k, v in found.items():
        if v is not None and not isinstance(v, str):
            raise bad(f"{path}.{shown_key(k)}", v, "a string")
    return {k: v or "" for k, v in found.items()}


def shown_key(key: str) -> str:
    """A key the endpoint chose, fit for a one-line message: escaped for a terminal, cut short."""
    escaped = terminal(key)
    return escaped if len(escaped) <= 60 else escaped[:59] + "…"


def items(page: Mapping[str, Any], path: str = "value") -> list[dict[str, Any]]:
    """A page's `value`: a list of objects ([] when absent or null)."""
    value = page.get("value")
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad(path, value, "a list")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise bad(f"{path}[{index}]", item, "an object")
    return value
