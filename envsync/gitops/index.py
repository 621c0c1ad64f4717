"""What git knows about the working tree, read once per run with two plain git commands.

`git ls-files -s -v` gives every tracked file's blob id; `git status --porcelain=v2` gives
HEAD, the tracked files whose index or working tree differ from it, and the untracked files.
Together they answer the dirty check and provenance, and name each clean file's content by its
blob id without reading it, which is what the validation cache keys on. Plain subprocesses,
run side by side: importing GitPython costs more than both commands.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from envsync.spec.cache import HashedKeys
from envsync.spec.files import RepoFiles

_REGULAR = ("100644", "100755")


@dataclass(frozen=True)
class Snapshot:
    """HEAD and the index of the repository at `top` (paths top-relative, POSIX)."""

    top: Path
    head: str | None  # None: no commit yet
    blobs: Mapping[str, tuple[str, str]]  # path → (mode, blob id), every tracked file
    unclean: frozenset[str]  # tracked paths whose working tree may differ from the blob
    changed: bool  # some tracked file differs from HEAD (index or working tree)
    untracked: tuple[str, ...]  # not ignored, sorted
    modified: frozenset[str] = frozenset()  # the tracked paths that differ from HEAD

    def relative(self, path: Path | str) -> str | None:
        """`path` (absolute, as the user named it) relative to `top`; None outside it."""
        text, top = str(path), str(self.top)
        if text == top:
            return ""
        return text[len(top) + 1 :] if text.startswith(top + os.sep) else None

    @cached_property
    def paths(self) -> list[str]:
        """Every tracked path, sorted (for prefix queries)."""
        return sorted(self.blobs)

    def untracked_under(self, folders: Sequence[str]) -> bool:
        prefixes = tuple(f.rstrip("/") + "/" for f in folders if f not in ("", "."))
        if any(f in ("", ".") for f in folders):
            return bool(self.untracked)
        return any(p.startswith(prefixes) for p in self.untracked)


def find_top(root: Path) -> Path | None:
    """The working tree `root` is in, found as git does (a `.git` folder or file), named as the
    user named `root` (no symlinks resolved, so paths compare as strings)."""
    if "GIT_DIR" in os.environ or "GIT_WORK_TREE" in os.environ:
        return None  # git's own discovery rules apply; let the callers fall back
    here = Path(os.path.abspath(root))
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


def inside_work_tree(root: Path) -> bool:
    """Whether git counts `root` as inside a working tree (asked of git itself: GIT_DIR,
    GIT_WORK_TREE and worktree files included)."""
    try:
        found = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "LC_ALL": "C"},
        )
    except OSError:  # no git at all
        return False
    return found.returncode == 0 and found.stdout.strip() == "true"


def snapshot(root: Path) -> Snapshot | None:
    """The repository's state, or None outside git (or when git cannot answer)."""
    return start_snapshot(root)()


def start_snapshot(root: Path) -> Callable[[], Snapshot | None]:
    """Start git's two commands now; the returned call collects them into a `Snapshot`."""
    top = find_top(root)
    if top is None:
        return lambda: None
    commands = (
        ["ls-files", "-s", "-v", "-z"],
        ["--no-optional-locks", "status", "--porcelain=v2", "-z", "--branch", "--untracked-files=all"],
    )
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        running = [
            subprocess.Popen(
                ["git", "-C", str(top), *c], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
            )
            for c in commands
        ]
    except OSError:
        return lambda: None

    def collect() -> Snapshot | None:
        outputs = [p.communicate()[0] for p in running]
        if any(p.returncode != 0 for p in running):
            return None
        blobs, unclean = _ls_files(outputs[0])
        head, changed, dirty, untracked = _status(outputs[1])
        unclean_paths, untracked_paths = frozenset(unclean | dirty), tuple(sorted(untracked))
        return Snapshot(top, head, blobs, unclean_paths, changed, untracked_paths, frozenset(dirty))

    return collect


def _ls_files(out: bytes) -> tuple[dict[str, tuple[str, str]], set[str]]:
    blobs: dict[str, tuple[str, str]] = {}
    unclean: set[str] = set()
    for record in out.split(b"\0")[:-1]:
        info, _, raw = record.partition(b"\t")
        tag, mode, blob, stage = info.decode().split(" ")
        path = os.fsdecode(raw)
        blobs[path] = (mode, blob)
        # "H": cached and checked out; lower case is assume-unchanged, "S" skip-worktree: git
        # would not notice an edit. Symlinks and submodules name something else than content.
        if tag != "H" or stage != "0" or mode not in _REGULAR:
            unclean.add(path)
    return blobs, unclean


def _status(out: bytes) -> tuple[str | None, bool, set[str], set[str]]:
    head: str | None = None
    changed = False
    dirty: set[str] = set()
    untracked: set[str] = set()
    fields = iter(out.split(b"\0")[:-1])
    for raw in fields:
        line = os.fsdecode(raw)
        kind = line[:1]
        if line.startswith("# branch.oid "):
            oid = line.removeprefix("# branch.oid ")
            head = None if oid == "(initial)" else oid
        elif kind == "?":
            untracked.add(line[2:])
        elif kind in ("1", "2", "u"):
            changed = True
            parts = line.split(" ", {"1": 8, "2": 9, "u": 10}[kind])
            dirty.add(parts[-1])
            if kind == "2":
                next(fields, None)  # a rename's original path
    return head, changed, dirty, untracked


@dataclass(frozen=True)
class GitKeys(HashedKeys):
    """Content keys from git: a clean tracked file is named by its blob id, unread; a clean
    folder by a tree key over its blobs. Anything else is hashed from its bytes."""

    snap: Snapshot | None = None
    files: RepoFiles | None = None

    @cached_property
    def namespace(self) -> str:
        # Attributes can make the working tree's bytes differ from the blob (working-tree
        # encoding, end-of-line conversion): a change to them must not reuse old results.
        snap = self.snap
        attrs = sorted((p, b) for p, (_, b) in (snap.blobs.items() if snap else ()) if _is_attributes(p))
        return hashlib.sha256(repr(attrs).encode()).hexdigest()[:16]

    def file(self, path: str) -> str | None:
        snap = self.snap
        rel = snap.relative(path) if snap else None
        if snap is not None and rel is not None and rel in snap.blobs and rel not in snap.unclean:
            return "g:" + snap.blobs[rel][1]
        return super().file(path)

    def folder(self, path: str) -> str | None:
        snap, files = self.snap, self.files
        if snap is None or files is None:
            return None
        rel, root_rel = snap.relative(path), snap.relative(files.root)
        if rel is None or root_rel is None or not (rel + "/").startswith(root_rel + "/" if root_rel else ""):
            return None  # outside the walk: its files were not all seen
        return _tree_key(snap, files, rel, root_rel, self.eol)

    @cached_property
    def eol(self) -> str:
        """The settings that convert line ends on checkout, which a build context's bytes see."""
        if self.snap is None:
            return ""
        got = subprocess.run(
            ["git", "-C", str(self.snap.top), "config", "-z", "--get-regexp", r"^core\.(autocrlf|eol)$"],
            capture_output=True,
            check=False,
        )
        return got.stdout.decode(errors="replace")


def _tree_key(snap: Snapshot, files: RepoFiles, rel: str, root_rel: str, eol: str) -> str | None:
    """A key over the blobs under `rel` when the folder on disk is exactly what git tracks
    there: every file tracked, clean and regular, nothing untracked or ignored, no empty or
    unwalked folder. Else None: the folder's content cannot be named without reading it."""
    inner = rel[len(root_rel) + 1 :] if root_rel else rel
    on_disk, dirs, complete = files.under(inner)
    if not complete:
        return None
    tracked = [f"{root_rel}/{f}" if root_rel else f for f in on_disk]
    if any(t not in snap.blobs or t in snap.unclean for t in tracked):
        return None
    if len(tracked) != _count_below(snap.paths, rel):
        return None  # tracked files missing from the working tree
    holding = set()
    for t in on_disk:
        folder = os.path.dirname(t)
        while folder not in holding and len(folder) > len(inner):
            holding.add(folder)
            folder = os.path.dirname(folder)
    if any(d not in holding for d in dirs):
        return None  # an empty folder, which the object hash names
    digest = hashlib.sha256(eol.encode())
    for t in tracked:
        mode, blob = snap.blobs[t]
        digest.update(f"{mode} {blob} {t[len(rel) + 1 :] if rel else t}\0".encode())
    return "t:" + digest.hexdigest()


def _count_below(paths: list[str], rel: str) -> int:
    if not rel:
        return len(paths)
    return bisect.bisect_left(paths, rel + "0") - bisect.bisect_left(paths, rel + "/")  # "0" follows "/"


def relative_posix(path: Path, base: Path) -> str:
    """`path` relative to `base` as POSIX (both taken as named, not resolved), else as given."""
    absolute, top = Path(os.path.abspath(path)), Path(os.path.abspath(base))
    return absolute.relative_to(top).as_posix() if absolute.is_relative_to(top) else Path(path).as_posix()


def _is_attributes(path: str) -> bool:
    return path == ".gitattributes" or path.endswith("/.gitattributes")
