"""Counted nouns for summaries, shared by the plan's and apply's renderers."""

from __future__ import annotations


def plural(count: int, one: str, many: str | None = None) -> str:
    """`1 orphan`, `2 orphans`; `many` for the irregular ones."""
    return f"{count} {one if count == 1 else (many or one + 's')}"
