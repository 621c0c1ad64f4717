"""Field-level differences between two version views (deepdiff), for plans and drift."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Keys below which a difference is reported one level deeper ("tags.team", not "tags").
_NESTED = ("tags", "build", "inference_config")
# Where git's build folder sits is not content: only its digest is.
_NOT_COMPARED = ("build.path",)


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> tuple[str, ...]:
    """Sorted field paths that differ, e.g. ("conda", "tags.team")."""
    if before is None or after is None:
        return ()
    from deepdiff import DeepDiff  # lazily: it is slow to import and only diffs need it

    found = DeepDiff(dict(before), dict(after), view="tree", threshold_to_diff_deeper=0)
    fields = {_field_of(item.path(output_format="list")) for items in found.values() for item in items}
    return tuple(sorted(f for f in fields if f not in _NOT_COMPARED))


def _field_of(path: list[Any]) -> str:
    if not path:
        return "(all)"
    head = str(path[0])
    if head in _NESTED and len(path) > 1:
        return f"{head}.{path[1]}"
    return head


def tag_changes(
    before: Mapping[str, str], after: Mapping[str, str]
) -> list[tuple[str, str, str | None, str | None]]:
    """(symbol, key, old, new) per tag that differs: + added, - removed, ~ changed."""
    rows = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        symbol = "+" if old is None else "-" if new is None else "~"
        rows.append((symbol, key, old, new))
    return rows
