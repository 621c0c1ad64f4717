"""`envsync doctor`'s checks, as values: what was checked, whether it passed, what was seen,
and the fix. Checks that need an Azure target are in `workspace/azure/preflight.py`."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def doc(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix}


def passed(name: str, detail: str) -> Check:
    return Check(name, True, detail)


def failed(name: str, detail: str, fix: str = "") -> Check:
    return Check(name, False, detail, fix)


def grants(entries: Sequence[Mapping[str, Any]], action: str) -> bool:
    """ARM's rule over a `Microsoft.Authorization/permissions` list: some entry has an `actions`
    pattern matching `action` and no `notActions` pattern that does (`*` wildcards,
    case-insensitive). Each entry is one role assignment's grant."""
    return any(
        _matches(entry.get("actions") or (), action) and not _matches(entry.get("notActions") or (), action)
        for entry in entries
    )


def _matches(patterns: Iterable[Any], action: str) -> bool:
    return any(isinstance(p, str) and fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def local_store(path: Path) -> Check:
    """The local SQLite workspace: there and writable, or creatable."""
    name = "local workspace"
    if path.exists():
        if os.access(path, os.W_OK):
            return passed(name, f"{path} (exists, writable)")
        return failed(
            name, f"{path} is not writable", "make it writable, or point the target's path elsewhere"
        )
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and os.access(parent, os.W_OK):
        return passed(name, f"{path} (created by the first apply)")
    return failed(name, f"{path} cannot be created", "point the target's path at a writable folder")
