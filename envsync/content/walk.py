"""Walking a build context as azure-ai-ml does: its ignore file (`.amlignore`, else
`.gitignore`), symlinks followed with loop and escape checks, names checked."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pathspec
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

from envsync.errors import SpecError

if TYPE_CHECKING:
    _Spec = pathspec.PathSpec[pathspec.Pattern]  # generic from pathspec 1.0 on

IGNORE_FILES = (".amlignore", ".gitignore")  # get_ignore_file: first one that exists wins


@dataclass(frozen=True, slots=True)
class ContextFile:
    relpath: str  # posix, relative to the context root: the name hashed and uploaded
    path: Path  # absolute, symlinks resolved: what is read
    size: int


def stat_of(path: Path | str, relpath: str) -> os.stat_result:
    try:
        return os.stat(path)
    except OSError as e:
        raise SpecError(f"build context: cannot read {relpath!r}: {e.strerror or e}") from e


def ignore_spec(root: Path) -> _Spec | None:
    for name in IGNORE_FILES:
        path = root / name
        if path.exists():
            return _read_ignore(path, name)
    return None


def _read_ignore(path: Path, name: str) -> _Spec | None:
    try:
        # IgnoreFile._get_ignore_list: utf-8-sig, split as text-mode file lines, stripped
        # (the vendored GitWildMatchPattern strips both ends, so leading blanks go too).
        with open(path, encoding="utf-8-sig") as fh:
            lines = [line.strip() for line in fh]
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"build context: cannot read {name}: {e}") from e
    patterns = [p for n, line in enumerate(lines, 1) if (p := _pattern(line, f"{name}:{n}")) is not None]
    # IgnoreFile.is_file_excluded: an ignore file without patterns excludes nothing. RE2 matches
    # in linear time: Python's re backtracks exponentially on a line of many `*` (a hung plan).
    return pathspec.PathSpec(patterns, backend="re2") if patterns else None


def _pattern(line: str, where: str) -> pathspec.Pattern | None:
    """One ignore line compiled as az ml's vendored matcher reads it (`_utils/_pathspec.py`).

    pathspec's GitIgnoreSpecPattern is that matcher's successor; where the two part ways, a
    line az ml would choke on or read differently is refused rather than guessed at.
    """
    if _NO_OP.fullmatch(line):
        # az ml compiles "!/" and "/**/" to regexes that only match paths starting with or
        # holding "//", which relative paths never do; pathspec 1.x matches every subpath.
        return None
    if "[^" in line:
        raise SpecError(f"build context: {where}: az ml reads '[^' as a literal '^'; write '[!' to negate")
    try:
        pattern = _PATTERN_CLASS(line)
    except (ValueError, re.error) as e:  # az ml fails on the same lines
        raise SpecError(f"build context: {where}: invalid pattern {line!r}: {e}") from e
    if pattern.include is None and line and line != "/" and not line.startswith("#"):
        # pathspec >= 1.0 drops lines with a bad bracket ("a[", "[]"); az ml matches them literally.
        raise SpecError(f"build context: {where}: ambiguous bracket in {line!r}; escape it as '\\['")
    return pattern if pattern.include is not None else None


_PATTERN_CLASS: Callable[[str], pathspec.Pattern] = GitIgnoreSpecPattern
_NO_OP = re.compile(r"!?/(\*\*/)*")


@dataclass(frozen=True, slots=True, eq=False)
class Dir:
    path: str  # as walked: through symlinks, absolute
    rel: str  # relpath as walked ("" at the root): the name files get
    real_rel: str  # relpath of the resolved directory: what the ignore file is matched against
    ancestors: frozenset[tuple[int, int]]  # (st_dev, st_ino) of this dir and those above it
    # Whether get_object_hash walks it: _get_dir_hash skips an ignored directory whole, where
    # the content hash still matches each file below it.
    in_object: bool = True
    entries: list[tuple[str, ContextFile | Dir]] = field(default_factory=list)  # what it hashes here


class Walk:
    """os.walk(followlinks=True) + traverse_directory, with loop and escape checks."""

    def __init__(self, root: Path, spec: _Spec | None):
        self.root = str(root)
        self.spec = spec
        self.files: list[ContextFile] = []
        st = os.stat(self.root)
        self.top = Dir(self.root, "", "", frozenset({(st.st_dev, st.st_ino)}))

    def run(self) -> list[ContextFile]:
        stack = [self.top]
        while stack:
            stack.extend(self._visit(stack.pop()))
        return self.files

    def _visit(self, d: Dir) -> list[Dir]:
        subdirs = []
        for entry in self._scan(d):
            _check_name(entry.name, d.rel)
            rel = f"{d.rel}/{entry.name}" if d.rel else entry.name
            real_rel = f"{d.real_rel}/{entry.name}" if d.real_rel else entry.name
            if entry.is_symlink():
                target = self._follow(entry, rel, real_rel)
            else:
                target = os.path.join(self.root, real_rel)
            if target is None:
                continue
            st = stat_of(target, rel)
            # _get_dir_hash matches every entry, directories too, by the same rule.
            excluded = self._excluded(real_rel)
            in_object = d.in_object and not excluded
            if stat.S_ISDIR(st.st_mode):
                sub = self._subdir(d, entry.path, rel, target, st, in_object)
                subdirs.append(sub)
                if in_object:
                    d.entries.append((entry.name, sub))
            elif not excluded:
                f = self._add_file(rel, target, st)
                if in_object:
                    d.entries.append((entry.name, f))
        return subdirs

    def _scan(self, d: Dir) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(d.path) as it:
                return sorted(it, key=lambda e: e.name)
        except OSError as e:
            # os.walk would skip an unreadable directory silently, changing the digest.
            where = repr(d.rel) if d.rel else "its root"
            raise SpecError(f"build context: cannot list {where}: {e.strerror or e}") from e

    def _follow(self, entry: os.DirEntry[str], rel: str, real_rel: str) -> str | None:
        """The link's resolved target, or None for an ignored link that is never read."""
        # A file link is matched by its own name (traverse_directory), so an ignored one may
        # dangle or point anywhere. A directory link's files are matched by their resolved
        # paths, which the ignore file cannot name outside the context: az ml would upload them.
        try:
            target = os.path.realpath(entry.path, strict=True)
        except OSError as e:
            if self._excluded(real_rel):
                return None
            link = os.readlink(entry.path)
            raise SpecError(
                f"build context: {rel!r} is a broken or looping symlink to {link!r}: {e.strerror or e}"
            ) from e
        if os.path.commonpath([self.root, target]) == self.root:
            return target
        if not os.path.isdir(target) and self._excluded(real_rel):
            return None
        raise SpecError(f"build context: {rel!r} is a symlink to {target!r}, outside the context")

    def _subdir(self, d: Dir, path: str, rel: str, target: str, st: os.stat_result, in_object: bool) -> Dir:
        key = (st.st_dev, st.st_ino)
        if key in d.ancestors:
            raise SpecError(f"build context: {rel!r} is a symlink loop (to {target!r})")
        real_rel = os.path.relpath(target, self.root).replace(os.sep, "/")
        return Dir(path, rel, "" if real_rel == "." else real_rel, d.ancestors | {key}, in_object)

    def _add_file(self, rel: str, target: str, st: os.stat_result) -> ContextFile:
        if not stat.S_ISREG(st.st_mode):
            # az ml would hash a FIFO by blocking on it, or a device by reading it whole.
            raise SpecError(f"build context: {rel!r} is not a regular file")
        f = ContextFile(rel, Path(target), st.st_size)
        self.files.append(f)
        return f

    def _excluded(self, real_rel: str) -> bool:
        # IgnoreFile.is_file_excluded: gitignore patterns, last match wins, matched per file
        # (directories are never pruned, so "!dir/keep" re-includes a file under "dir/").
        return self.spec is not None and self.spec.match_file(real_rel)


def _check_name(name: str, where: str) -> None:
    try:
        name.encode()
    except UnicodeEncodeError as e:
        # az ml hashes names as UTF-8 and would crash on this one.
        raw = os.fsencode(name)
        raise SpecError(f"build context: name {raw!r} in {where or 'the root'!r} is not valid UTF-8") from e
