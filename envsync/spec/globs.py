"""The `environments` globs of envsync.yaml as it writes them: each with its place in the file
and the target it belongs to, so a glob that matches nothing is reported at its line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from envsync.spec.yamlio import Key, YamlDocument


@dataclass(frozen=True)
class SourcedGlob:
    """An `environments` glob as envsync.yaml writes it: where, and for which target (None:
    the top level's)."""

    pattern: str
    line: int
    col: int
    target: str | None = None


def written_globs(raw: dict[str, Any], doc: YamlDocument) -> tuple[SourcedGlob, ...]:
    sections: list[tuple[Key, Any, str | None]] = [(("environments",), raw.get("environments"), None)]
    for name, t in (raw.get("targets") or {}).items():
        sections.append((("targets", name, "environments"), t.get("environments"), name))
    found = []
    for key, value, target in sections:
        listed = [(key, value)] if isinstance(value, str) else None
        items = listed or [((*key, i), g) for i, g in enumerate(value or ())]
        found += [SourcedGlob(glob, *doc.where(at), target) for at, glob in items]
    return tuple(found)
