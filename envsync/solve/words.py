"""A solver's error text → one line of words, and the requested names it mentions."""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_CHARS = 600
_TREE = re.compile(r"^[\s│├└─|`\\-]*")
_PREFIXES = ("Cannot solve the request because of: ", "error: ", "× ")
_UV_HEADER = re.compile(r"^No solution found when resolving dependencies:?\s*")


def one_line(text: str) -> str:
    """The lines of a solver's message (a tree, for rattler's and uv's), joined without the tree
    drawing, bounded in length. Its package names are the channels' and the index's: each sink
    escapes them (envsync.text.escape)."""
    parts = [_TREE.sub("", line).strip() for line in text.splitlines()]
    joined = " ".join(p.removeprefix("cause: ") for p in parts if p)
    for prefix in _PREFIXES:
        joined = joined.removeprefix(prefix)
    joined = _UV_HEADER.sub("", joined)
    joined = joined.replace(": :", ":")
    return joined if len(joined) <= MAX_CHARS else joined[: MAX_CHARS - 1] + "…"


def mentioned(text: str, names: Iterable[str], *, prefix: str = "") -> tuple[str, ...]:
    """The `names` that `text` names as a word (`prefix` + name: pip's are "pip:numpy")."""
    lowered = text.lower()
    found = []
    for name in names:
        bare = name.removeprefix(prefix)
        pattern = rf"(?<![\w.-]){re.escape(bare)}(?![\w-]|\.[A-Za-z])"
        if bare and re.search(pattern, lowered):
            found.append(name)
    return tuple(dict.fromkeys(found))


def root_cause(text: str) -> str:
    """The innermost cause of a chained error ("... Caused by: X", uv's "cause: X"), one line."""
    causes = re.split(r"(?:Caused by|cause):\s*", text)
    return one_line(causes[-1].strip() or text)


def unreachable(what: str, urls: Iterable[str], text: str, fix: str) -> str:
    """`what` (a conda channel, pip's index) at the URL the error names, its root cause, and
    `fix`: the one line an unreachable source gets."""
    named = [u for u in urls if u.rstrip("/") in text]
    where = ", ".join(named or urls)
    return f"{what} {where} cannot be read ({root_cause(text)}): {fix}"
