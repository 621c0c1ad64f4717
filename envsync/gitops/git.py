"""The git edge through GitPython: where a file comes from (provenance), and the repository
object for what needs it (`--at`'s archive). What changed since a ref lives in `changes`,
which needs no GitPython.

Paths that cross this module's API are repo-relative POSIX strings ("environments/a.yml")
unless a parameter says otherwise. Nothing here checks anything out or writes to the repo.
GitPython's Repo is not thread-safe: of these functions only `provenance` may be called from
several threads at once (apply's workers do).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import git

from envsync.errors import GitError
from envsync.gitops import changes
from envsync.gitops.changes import relative_to_top

__all__ = ["Provenance", "is_dirty", "provenance", "repo_at", "resolve"]

DIRTY_SUFFIX = "-dirty"
# A Repo shares one `git cat-file` process between callers; apply asks for provenance from its
# worker threads, and interleaved requests on that pipe deadlock.
_LOCK = threading.Lock()


def repo_at(root: Path) -> git.Repo | None:
    """The repository `root` is in (searching parent folders), or None outside any."""
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def resolve(repo: git.Repo, ref: str) -> git.Commit:
    """The commit a branch, tag, SHA or expression (`origin/main`, `HEAD~1`) names."""
    return repo.commit(changes.resolve(_top(repo), ref))


@dataclass(frozen=True)
class Provenance:
    commit: str | None  # HEAD's SHA, "-dirty" appended for a dirty tree; None outside git
    source: str  # the file, repo-relative (root-relative outside git)
    dirty: bool


def provenance(
    repo: git.Repo | None, root: Path, path: Path, *, untracked_under: Sequence[Path] | None = None
) -> Provenance:
    """Where `path` comes from: the commit it was applied from and its repo-relative path.

    The tree is dirty when tracked files have uncommitted changes (staged or not) or untracked
    files lie under `untracked_under` (default: the file's own folder, environments/ in the
    usual layout); untracked files elsewhere, such as a plan.json a CI job wrote, don't count.
    """
    absolute = Path(os.path.abspath(root / path))
    if repo is None:
        return Provenance(commit=None, source=_relative(absolute, root), dirty=False)
    top = _top(repo)
    rel = relative_to_top(absolute, top)
    source = rel if rel is not None else _relative(absolute, root)
    folders = untracked_under if untracked_under is not None else (absolute.parent,)
    under = [
        r for r in (relative_to_top(Path(os.path.abspath(root / f)), top) for f in folders) if r is not None
    ]
    with _LOCK:
        sha = _git(repo, "rev-parse", "-q", "--verify", "HEAD^{commit}", check=False).strip()
        if not sha:  # a repository without commits yet
            return Provenance(commit=None, source=source, dirty=True)
        dirty = is_dirty(repo, untracked_under=under)
    return Provenance(commit=sha + DIRTY_SUFFIX if dirty else sha, source=source, dirty=dirty)


def is_dirty(repo: git.Repo, *, untracked_under: Sequence[str] | None = ()) -> bool:
    """Tracked files differ from HEAD (index or working tree), or untracked files exist under
    the repo-relative folders `untracked_under` (None: anywhere; empty: ignore untracked)."""
    if repo.is_dirty(index=True, working_tree=True, untracked_files=False):
        return True
    if untracked_under is None:
        return bool(repo.untracked_files)
    if not untracked_under:
        return False
    found = _git(
        repo, "ls-files", "--others", "--exclude-standard", "-z", "--", *(f or "." for f in untracked_under)
    )
    return bool(found.strip("\0"))


def _git(repo: git.Repo, *args: str, check: bool = True) -> str:
    try:
        return str(repo.git.execute(["git", *args], with_exceptions=check))
    except git.GitCommandError as e:
        detail = " ".join(str(e.stderr).split()) or f"exit {e.status}"
        raise GitError(f"git {args[0]} failed: {detail}") from None


def _top(repo: git.Repo) -> Path:
    if repo.working_tree_dir is None:
        raise GitError(f"{repo.git_dir}: a bare repository has no working tree")
    return Path(repo.working_tree_dir)


def _relative(path: Path, root: Path) -> str:
    absolute, base = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    return absolute.relative_to(base).as_posix() if absolute.is_relative_to(base) else path.as_posix()
