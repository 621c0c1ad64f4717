"""Markdown bodies for GitHub: cut to GitHub's size limit between whole entries. Pure.

GitHub refuses a comment or issue body over 65,535 characters (422). A report is cut between
its entries, never inside one: an entry is a `<details>` element, a fenced code block, or any
other line (a table row, a list item). What was cut is counted in a note that says where the
whole report is (the workflow artifact and the job log).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

MAX_BODY = 65_535  # GitHub's limit for comment and issue bodies
# A report composed for posting leaves this much room for the hidden marker the client puts
# first, so the client never has to cut it again.
MARKER_ROOM = 200
_FENCE = re.compile(r"^\s*(```+|~~~+)")

Note = Callable[[int, int], str]  # (entries not shown, entries in all) -> the note's Markdown


def entries(body: str) -> list[str]:
    """`body` as the units it may be cut between; joined back together they are `body`."""
    units: list[str] = []
    current: list[str] = []
    fence: str | None = None
    depth = 0  # open <details> elements
    for line in body.splitlines(keepends=True):
        current.append(line)
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)[0] * 3
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is None:
            depth = max(0, depth + line.count("<details") - line.count("</details>"))
        if fence is None and depth == 0:
            units.append("".join(current))
            current = []
    if current:  # an unclosed fence or <details>: one unit to the end
        units.append("".join(current))
    return units


def fit(body: str, note: Note, *, limit: int = MAX_BODY) -> str:
    """`body` if it fits in `limit` characters; else as many whole entries as fit with `note`."""
    if len(body) <= limit:
        return body
    units = entries(body)
    counted = [u for u in units if u.strip()]
    kept: list[str] = []
    size = 0
    for unit in units:
        shown = sum(1 for u in kept if u.strip()) + bool(unit.strip())
        tail = _note(note, len(counted) - shown, len(counted))
        if size + len(unit) + len(tail) > limit:
            break
        kept.append(unit)
        size += len(unit)
    hidden = len(counted) - sum(1 for u in kept if u.strip())
    return "".join(kept).rstrip("\n") + _note(note, hidden, len(counted))


def _note(note: Note, hidden: int, total: int) -> str:
    return f"\n\n{note(hidden, total)}\n" if hidden else ""


def truncation_note(what: str, *, artifact: str | None = None, run_url: str | None = None) -> Note:
    """A note naming where the whole `what` ("plan", "drift report") is."""

    def note(hidden: int, total: int) -> str:
        where = "in the job log"
        if artifact:
            run = f" of [this workflow run]({run_url})" if run_url else " of this workflow run"
            where = f"in the workflow artifact `{artifact}`{run} (text, Markdown and JSON) and {where}"
        return (
            f"> **{hidden:,} of {total:,} entries not shown**: GitHub caps a comment at "
            f"{MAX_BODY:,} characters. The full {what} is {where}."
        )

    return note


def with_marker(body: str, marker: str, note: Note) -> str:
    """`body` with `marker` first (so no cut can remove it), within GitHub's limit."""
    text = body if body.startswith(marker) else f"{marker}\n{body}"
    return fit(text, note)


def join(*parts: str | None) -> str:
    """Non-empty Markdown parts, a rule between them."""
    shown: Sequence[str] = [p.strip("\n") for p in parts if p and p.strip()]
    return "\n\n---\n\n".join(shown) + "\n"
