"""One walk of the repository, shared by everything that looks for files in one run.

Environment files (the config's globs), job and deployment files (the reference scan) and the
validation cache's clean-folder check all read the same listing instead of globbing and
walking the tree again each. The folders that are never the repository's own (.git, .venv,
node_modules, .envsync) are not entered, and neither are symlinked folders (as `**` in
`Path.glob`); both are remembered, so a check that must see every file can tell.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

SKIP_DIRS = frozenset({".git", ".venv", "node_modules", ".envsync"})


@dataclass(frozen=True)
class RepoFiles:
    """Every file under `root` (root-relative POSIX paths, sorted), and every folder walked."""

    root: Path
    files: tuple[str, ...] = ()
    dirs: frozenset[str] = frozenset()  # folders entered ("" is root itself)
    skipped: tuple[str, ...] = ()  # folders not entered: SKIP_DIRS and symlinked folders
    links: frozenset[str] = field(default_factory=frozenset)  # files that are symlinks
    dangling: tuple[str, ...] = ()  # symlinks whose target is missing (reported, not read)

    def matching(self, globs: Sequence[str], *, without: str | None = None) -> list[Path]:
        """The files any of `globs` matches (`Path.glob` semantics), as absolute paths, sorted;
        those whose name ends in `without` left out."""
        base = str(self.root)
        names = self.matching_names(globs)
        if without is not None:
            names = tuple(f for f in names if not f.endswith(without))
        return [Path(f"{base}/{f}") for f in names]

    def matching_names(self, globs: Sequence[str]) -> tuple[str, ...]:
        """`matching`, as root-relative POSIX paths."""
        key = tuple(globs)
        if key not in self._matched:
            patterns = [compile_glob(g) for g in globs]
            self._matched[key] = tuple(f for f in self.files if any(p.match(f) for p in patterns))
        return self._matched[key]

    @cached_property
    def _matched(self) -> dict[tuple[str, ...], tuple[str, ...]]:
        return {}

    def is_plain(self, name: str) -> bool:
        """Whether root-relative `name` is a file the walk found that is no symlink: reached
        through no symlinked folder either (the walk enters none), so inside the root."""
        return name in self._names and name not in self.links

    @cached_property
    def _names(self) -> frozenset[str]:
        return frozenset(self.files)

    def dangling_matching(self, globs: Sequence[str]) -> list[Path]:
        """The dangling symlinks `globs` would name, were their targets there."""
        patterns = [compile_glob(g) for g in globs]
        return [self.root / d for d in self.dangling if any(p.match(d) for p in patterns)]

    def yaml_files(self) -> list[str]:
        return [f for f in self.files if f.endswith((".yml", ".yaml"))]

    @cached_property
    def _sorted_dirs(self) -> list[str]:
        return sorted(self.dirs)

    def under(self, folder: str) -> tuple[list[str], list[str], bool]:
        """(files, folders) below root-relative `folder`, and whether all of it was walked."""
        prefix = folder.rstrip("/") + "/" if folder not in ("", ".") else ""
        files = [f for f in _prefixed(self.files, prefix)]
        dirs = [d for d in _prefixed(self._sorted_dirs, prefix)]
        complete = not any(s == folder or s.startswith(prefix) for s in self.skipped)
        return files, dirs, complete and not any(f in self.links for f in files)


def _prefixed(items: Sequence[str], prefix: str) -> Iterable[str]:
    if not prefix:
        return items
    import bisect

    start = bisect.bisect_left(items, prefix)
    end = bisect.bisect_left(items, prefix[:-1] + "0")  # "0" sorts right after "/"
    return items[start:end]


def walk(root: Path) -> RepoFiles:
    """List `root` once (scandir, no stat beyond what the listing gives)."""
    files: list[str] = []
    dirs: set[str] = set()
    skipped: list[str] = []
    links: set[str] = set()
    dangling: list[str] = []
    pending = [""]
    base = str(root)
    while pending:
        rel = pending.pop()
        try:
            entries = list(os.scandir(f"{base}/{rel}" if rel else base))
        except OSError:
            continue
        dirs.add(rel)
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    (skipped.append if entry.name in SKIP_DIRS else pending.append)(path)
                elif entry.is_symlink():
                    _link(entry, path, files, links, skipped, dangling)
                elif entry.is_file(follow_symlinks=False):
                    files.append(path)
            except OSError:
                continue
    files.sort()
    return RepoFiles(
        root, tuple(files), frozenset(dirs), tuple(sorted(skipped)), frozenset(links), tuple(sorted(dangling))
    )


def _link(
    entry: os.DirEntry[str],
    path: str,
    files: list[str],
    links: set[str],
    skipped: list[str],
    dangling: list[str],
) -> None:
    """A symlink: a folder is not entered, a file is listed (and known as a link)."""
    if entry.is_dir():
        skipped.append(path)
    elif entry.is_file():
        files.append(path)
        links.add(path)
    elif not os.path.exists(entry.path):
        dangling.append(path)


OUTSIDE = "resolves outside the repository (a symlink out of it?): it must be inside the repository"


def confined(path: Path, root: Path, files: RepoFiles | None) -> bool:
    """Whether `path` (absolute, under `root` as written) is inside `root` once symlinks are
    resolved. A file the walk found that is no symlink is; anything else is resolved (as few as
    possible: ten thousand files cost a lookup each, not a realpath)."""
    text, base = str(path), f"{root}/"
    if files is not None and text.startswith(base) and files.is_plain(text[len(base) :]):
        return True
    from envsync.content.confine import inside

    return inside(path, root)


def walk_order(path: str) -> tuple[tuple[int, str], ...]:
    """os.walk's order, top down: a folder's files first, then its sub-folders, each sorted."""
    *folders, name = path.split("/")
    return (*((1, f) for f in folders), (0, name))


def yaml_files_under(root: Path) -> Iterator[Path]:
    """Every YAML under `root` outside SKIP_DIRS, walked afresh (for callers without a walk)."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            if name.endswith((".yml", ".yaml")):
                yield Path(folder) / name


def is_walkable(globs: Sequence[str]) -> bool:
    """Whether a walk from the root answers these globs (no absolute paths, no `..`)."""
    return all(not g.startswith("/") and ".." not in g.split("/") for g in globs)


class _Glob:
    """A glob as `Path.glob` reads it, compiled to one regex over root-relative POSIX paths:
    `*`, `?` and `[...]` stay within a folder, a `**` segment is any depth (zero included).

    Python's regexes backtrack on several `*` in a folder's name (polynomial in the name's length
    per `*`) or several `**` (in the depth per `**`), and a pull request writes both the globs
    and the file names. RE2 never backtracks but costs ten times as much per call, so it
    matches only globs beyond the simple shapes (the defaults are simple)."""

    def __init__(self, pattern: str):
        parts = [p for p in pattern.split("/") if p not in ("", ".")]
        self.regex: Any = None
        if not parts or parts[-1] == "**":  # Path.glob yields only folders for a trailing **
            return
        regex = "".join("(?:[^/]+/)*" if p == "**" else _segment(p) + "/" for p in parts[:-1])
        regex += _segment(parts[-1])
        stars = sum(p == "**" for p in parts)
        if stars <= 2 and all(p.count("*") <= 1 for p in parts if p != "**"):
            self.regex = re.compile(regex + r"\Z", re.DOTALL)
        else:
            import re2

            self.regex = re2.compile("(?s)" + regex + r"\z")

    def match(self, path: str) -> bool:
        return self.regex is not None and self.regex.match(path) is not None


def _segment(part: str) -> str:
    """fnmatch's translation of one segment, its wildcards kept inside one folder."""
    out, i = [], 0
    while i < len(part):
        c = part[i]
        i += 1
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = part.find("]", i + 1 if part[i : i + 1] in ("!", "]") else i)
            if end < 0:
                out.append(re.escape(c))
                continue
            body = re.sub(r"([&~|\[\\])", r"\\\1", part[i:end])  # set operations stay literal
            i = end + 1
            if body.startswith("!"):
                body = "^/" + body[1:]
            elif body.startswith("^"):
                body = "\\" + body
            out.append(f"[{body}]")
        else:
            out.append(re.escape(c))
    return "".join(out)


_GLOBS: dict[str, _Glob] = {}


def compile_glob(pattern: str) -> _Glob:
    if pattern not in _GLOBS:
        _GLOBS[pattern] = _Glob(pattern)
    return _GLOBS[pattern]
