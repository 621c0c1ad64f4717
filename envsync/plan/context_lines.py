"""A build context in a plan, as files: which were added, removed and modified, the Dockerfile
path when it is not the default, and the context digest only as a secondary detail. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from envsync.plan.lines import Changed, Detail
from envsync.plan.model import ContextFiles

SHOWN_FILES = 20  # per change; the rest are counted ("and 12 more")
DEFAULT_DOCKERFILE = "Dockerfile"
_DIGEST = re.compile(r"[0-9a-f]{64}")


def listing(build: Mapping[str, Any], files: ContextFiles | None, symbol: str) -> Iterator[str]:
    """A context shown whole: a new environment's (`+`) or an orphan's (`-`)."""
    yield f"{symbol} build: {where(build)} (context {short(build.get('context'))})"
    if build.get("dockerfile_path", DEFAULT_DOCKERFILE) != DEFAULT_DOCKERFILE:
        yield f"{symbol} build.dockerfile_path: {build['dockerfile_path']}"
    if files is not None:
        yield from file_lines(files)


def changed(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, files: ContextFiles | None
) -> Iterator[Detail]:
    """A context that changed, as its changed files; then its Dockerfile path."""
    old, new = before or {}, after or {}
    if old.get("context") != new.get("context"):
        listed = files is not None and not files.unknown
        yield f"~ build: {where(new)}" + (f", files changed since {files.basis}:" if listed and files else "")
        if files is not None:
            yield from file_lines(files)
        yield f"  (context {short(old.get('context'))} → {short(new.get('context'))})"
    old_path = old.get("dockerfile_path", DEFAULT_DOCKERFILE)
    new_path = new.get("dockerfile_path", DEFAULT_DOCKERFILE)
    if old_path != new_path:
        yield Changed("build.dockerfile_path", old_path, new_path)


def file_lines(files: ContextFiles) -> Iterator[str]:
    """`+ path`, `- path`, `~ path`, indented under their build line, at most SHOWN_FILES."""
    if files.unknown:
        yield f"  # its files cannot be listed: {files.unknown}"
        return
    rows = [("+", p) for p in files.added] + [("-", p) for p in files.removed]
    rows += [("~", p) for p in files.modified]
    rows.sort(key=lambda row: row[1])
    yield from (f"  {symbol} {path}" for symbol, path in rows[:SHOWN_FILES])
    if len(rows) > SHOWN_FILES:
        yield f"    and {len(rows) - SHOWN_FILES} more"
    if not rows:
        yield f"  # no file differs from {files.basis}'s, yet the context digest does"


def where(build: Mapping[str, Any]) -> str:
    return str(build["path"]) if "path" in build else "a remote context (its files cannot be compared)"


def short(context: Any) -> str:
    text = str(context) if context else "none"
    return text[:12] if _DIGEST.fullmatch(text) else text
