"""What changed since a ref, read with plain git commands (no GitPython: it is slow to import,
and `plan --changed-since` has a budget of half a second at 10,000 environments).

Paths that cross this module's API are repo-relative POSIX strings ("environments/a.yml")
unless a parameter says otherwise. Nothing here checks anything out or writes to the repo.
"""

from __future__ import annotations

import bisect
import fnmatch
import os
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from envsync.config import DEFAULT_GLOBS
from envsync.content.fingerprint import safe_load
from envsync.errors import GitError

if TYPE_CHECKING:
    from envsync.spec.model import EnvironmentSpec


@dataclass(frozen=True)
class ChangedPaths:
    """Repo-relative paths that differ between a merge base and the working tree."""

    changed: tuple[str, ...]  # added or modified (new side of a rename included), sorted
    deleted: tuple[str, ...]  # removed (old side of a rename included), sorted
    base: str  # the merge-base commit compared with
    top: Path  # the working tree the paths are relative to

    def touches(self, path: str) -> bool:
        """`path` itself, or anything under it when it is a folder, changed or was deleted."""
        every = self._every
        prefix = path.rstrip("/") + "/"
        at = bisect.bisect_left(every, path)
        if at < len(every) and every[at] == path:
            return True
        at = bisect.bisect_left(every, prefix, at)
        return at < len(every) and every[at].startswith(prefix)

    @cached_property
    def _every(self) -> list[str]:
        return sorted({*self.changed, *self.deleted})


def changed_paths(top: Path, ref: str, *, untracked: Sequence[str] | None = None) -> ChangedPaths:
    """What changed since `ref`, with the semantics of a GitHub pull request's diff.

    Compares the merge base of `ref` and HEAD (`git diff REF...`, three dots) with the working
    tree at `top`: commits on HEAD's side, staged and unstaged edits and untracked files (not
    ignored ones) all count; commits that landed on `ref` after HEAD branched off do not.
    Renames are a deletion of the old path plus a change of the new one. `untracked`
    (repo-relative) saves asking git for them again.
    """
    base = merge_base(top, ref)
    changed: set[str] = set()
    deleted: set[str] = set()
    # --no-renames: a rename is reported as D old + A new, which is exactly what callers want.
    out = run(top, "diff", "--name-status", "--no-renames", "--no-relative", "-z", base, "--")
    fields = out.split("\0")[:-1]  # -z ends every field with NUL
    for status, path in zip(fields[0::2], fields[1::2], strict=True):
        (deleted if status == "D" else changed).add(path)
    if untracked is None:
        untracked = run(top, "ls-files", "--others", "--exclude-standard", "-z").split("\0")[:-1]
    changed |= set(untracked)
    # `git rm --cached f` leaves f deleted in the index but present (untracked) on disk.
    return ChangedPaths(
        changed=tuple(sorted(changed)), deleted=tuple(sorted(deleted - changed)), base=base, top=top
    )


def merge_base(top: Path, ref: str) -> str:
    """The best common ancestor of `ref` and HEAD; GitError for an unknown ref."""
    target, head = resolve(top, ref), resolve(top, "HEAD")
    base = run(top, "merge-base", target, head, check=False).strip()
    if not base:
        shallow = run(top, "rev-parse", "--is-shallow-repository", check=False).strip() == "true"
        hint = " (a shallow clone? check out with fetch-depth: 0)" if shallow else ""
        raise GitError(f"'{ref}' and HEAD have no common history{hint}")
    return base


def resolve(top: Path, ref: str) -> str:
    """The commit SHA a branch, tag, SHA or expression (`origin/main`, `HEAD~1`) names."""
    found = run(top, "rev-parse", "-q", "--verify", "--end-of-options", f"{ref}^{{commit}}", check=False)
    if not found.strip():
        # A shallow CI checkout (actions/checkout's default depth 1) has no base branch at all.
        raise GitError(f"unknown git ref '{ref}'")
    return found.strip()


def select_affected(
    specs: Iterable[EnvironmentSpec], changed: ChangedPaths, root: Path
) -> tuple[EnvironmentSpec, ...]:
    """The specs whose YAML, conda file or any file of their local build context changed.

    Relative spec paths are taken relative to `root` (the envsync root).
    """
    # Where root sits in the working tree is found once; each input under it is then a string
    # prefix away from its repo-relative path (resolving every input cost a realpath each).
    base = Path(os.path.abspath(root))
    at = relative_to_top(base, changed.top)
    prefix = "" if at in (None, ".") else f"{at}/"
    named = str(base) + os.sep

    def relative(path: Path) -> str | None:
        text = str(path)  # loaded specs name their inputs absolute and normalised already
        if not text.startswith(named):
            text = os.path.abspath(os.path.join(base, path))
        if at is not None and text.startswith(named):
            return prefix + text[len(named) :].replace(os.sep, "/")
        return relative_to_top(Path(text), changed.top)

    if not changed.changed and not changed.deleted:
        return ()
    return tuple(
        spec
        for spec in specs
        if any(rel is not None and changed.touches(rel) for rel in map(relative, spec.inputs))
    )


def deleted_environment_names(
    top: Path,
    changed: ChangedPaths,
    root: Path,
    *,
    patterns: Sequence[str] = DEFAULT_GLOBS,
    defined: Iterable[str] = (),
) -> tuple[str, ...]:
    """Names of environments whose YAML was deleted since `changed.base`.

    Deleted files matching the environment `patterns` (relative to `root`) are read as they were
    at the merge base; unparseable files and YAMLs that are not environments (a conda file has a
    `name` too) are ignored. A name still `defined` elsewhere, after a rename, is not deleted.
    """
    prefix = prefix_of(top, root)
    keep = set(defined)
    names = set()
    for path in changed.deleted:
        rel = _under(path, prefix)
        if rel is None or not any(glob_match(rel, p) for p in patterns):
            continue
        name = _environment_name(_blob_text(top, changed.base, path))
        if name is not None and name not in keep:
            names.add(name)
    return tuple(sorted(names))


def _blob_text(top: Path, commit: str, path: str) -> str | None:
    got = subprocess.run(
        ["git", "-C", str(top), "cat-file", "blob", f"{commit}:{path}"], capture_output=True, check=False
    )
    if got.returncode != 0:
        return None  # not there, or a folder
    try:
        return got.stdout.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def environment_name_at(path: Path) -> tuple[str, ...]:
    """The name an environment YAML on disk holds (none when unreadable or no environment)."""
    try:
        name = _environment_name(path.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError):
        return ()
    return (name,) if name is not None else ()


def _environment_name(text: str | None) -> str | None:
    try:
        doc = safe_load(text) if text is not None else None
    except yaml.YAMLError:
        return None
    is_env = isinstance(doc, dict) and ("image" in doc or "build" in doc)
    name = doc.get("name") if is_env and isinstance(doc, dict) else None
    return name if isinstance(name, str) else None


def glob_match(path: str, pattern: str) -> bool:
    """Path.glob's matching on POSIX paths: `*` stays within a folder, `**` is any depth (0+)."""
    return _match(tuple(path.split("/")), tuple(p for p in pattern.split("/") if p not in ("", ".")))


def _match(parts: tuple[str, ...], pats: tuple[str, ...]) -> bool:
    # The set of pattern positions reached after each folder: time bounded by parts x patterns
    # (trying each `**` both ways recursively is exponential in their number).
    states = _past_stars({0}, pats)
    for part in parts:
        reached = {j + (pats[j] != "**") for j in states if j < len(pats) and _segment(part, pats[j])}
        states = _past_stars(reached, pats)
        if not states:
            return False
    return len(pats) in states


def _segment(part: str, pat: str) -> bool:
    return pat == "**" or fnmatch.fnmatchcase(part, pat)


def _past_stars(states: set[int], pats: tuple[str, ...]) -> set[int]:
    """`states` plus every position after a run of `**` (which may match no folder)."""
    found, pending = set(states), list(states)
    while pending:
        j = pending.pop()
        if j < len(pats) and pats[j] == "**" and j + 1 not in found:
            found.add(j + 1)
            pending.append(j + 1)
    return found


def prefix_of(top: Path, root: Path) -> str:
    rel = relative_to_top(Path(os.path.abspath(root)), top)
    if rel is None:
        raise GitError(f"{root} is not inside the repository at {top}")
    return "" if rel == "." else rel


def _under(path: str, prefix: str) -> str | None:
    if not prefix:
        return path
    return path[len(prefix) + 1 :] if path.startswith(prefix + "/") else None


def relative_to_top(path: Path, top: Path) -> str | None:
    """`path` relative to the working tree `top`, POSIX; None outside it.

    git reports `top` with symlinks resolved (/private/tmp on macOS), while envsync keeps the
    names the user gave, so the parent folders are resolved too before giving up.
    """
    absolute = Path(os.path.normpath(path))
    for candidate, base in (
        (absolute, top),
        (Path(os.path.realpath(absolute.parent)) / absolute.name, top.resolve()),
    ):
        if candidate.is_relative_to(base):
            return candidate.relative_to(base).as_posix()
    return None


def run(top: Path, *args: str, check: bool = True) -> str:
    got = subprocess.run(["git", "-C", str(top), *args], capture_output=True, check=False)
    if check and got.returncode != 0:
        detail = " ".join(got.stderr.decode(errors="replace").split()) or f"exit {got.returncode}"
        raise GitError(f"git {args[0]} failed: {detail}")
    return os.fsdecode(got.stdout)
