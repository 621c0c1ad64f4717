"""What `validate PATH...` says about the paths themselves: a folder holding no YAML, and
symlinks whose target is missing (skipped by the search, so said aloud rather than silently)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from envsync.spec.problems import Problem, Severity


def path_problems(
    given: Sequence[Path], found: Iterable[Path], shown: Callable[[Path], str]
) -> list[Problem]:
    """A folder among `given` under which nothing was `found` is an error: a validate of it
    would otherwise pass with nothing checked. Dangling symlinks below them are warnings."""
    found_text = [str(p) for p in found]
    problems = []
    for path in given:
        if path.is_dir() and not any(f.startswith(f"{path}{os.sep}") for f in found_text):
            problems.append(Problem(shown(path), 1, 1, "holds no environment YAML (no .yml or .yaml file)"))
        problems += dangling(path, shown)
    return problems


def dangling(path: Path, shown: Callable[[Path], str]) -> list[Problem]:
    """A symlinked YAML at or under `path` that points nowhere."""
    if path.is_symlink() and not path.exists():
        return [_dangling(path, shown, Severity.ERROR)]  # named on the command line: not checked
    if not path.is_dir():
        return []
    links = (p for ext in ("yml", "yaml") for p in path.glob(f"**/*.{ext}") if p.is_symlink())
    return [_dangling(p, shown, Severity.WARNING) for p in sorted(links) if not p.exists()]


def dangling_found(path: Path, shown: Callable[[Path], str]) -> Problem:
    """A dangling symlink the environment globs would name: a warning (nothing to check)."""
    return _dangling(path, shown, Severity.WARNING)


def _dangling(path: Path, shown: Callable[[Path], str], severity: Severity) -> Problem:
    return Problem(shown(path), 1, 1, "a symlink to a missing file; not checked", severity)
