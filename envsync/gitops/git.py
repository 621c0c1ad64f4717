"""The git edge: what changed since a ref, and where a file comes from (provenance).

Paths that cross this module's API are repo-relative POSIX strings ("environments/a.yml")
unless a parameter says otherwise. Nothing here checks anything out or writes to the repo.
GitPython's Repo is not thread-safe: of these functions only `provenance` may be called from
several threads at once (apply's workers do).
"""

from __future__ import annotations

import fnmatch
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import git
import yaml

from envsync.config import DEFAULT_GLOBS
from envsync.content.fingerprint import safe_load
from envsync.errors import GitError

if TYPE_CHECKING:
    from envsync.spec.load import EnvironmentSpec

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


@dataclass(frozen=True)
class ChangedPaths:
    """Repo-relative paths that differ between a merge base and the working tree."""

    changed: tuple[str, ...]  # added or modified (new side of a rename included), sorted
    deleted: tuple[str, ...]  # removed (old side of a rename included), sorted
    base: str  # the merge-base commit compared with
    top: Path  # the working tree the paths are relative to

    def touches(self, path: str) -> bool:
        """`path` itself, or anything under it when it is a folder, changed or was deleted."""
        prefix = path.rstrip("/") + "/"
        return any(p == path or p.startswith(prefix) for p in (*self.changed, *self.deleted))


def changed_paths(repo: git.Repo, ref: str) -> ChangedPaths:
    """What changed since `ref`, with the semantics of a GitHub pull request's diff.

    Compares the merge base of `ref` and HEAD (`git diff REF...`, three dots) with the working
    tree: commits on HEAD's side, staged and unstaged edits and untracked files (not ignored
    ones) all count; commits that landed on `ref` after HEAD branched off do not. Renames are a
    deletion of the old path plus a change of the new one.
    """
    base = merge_base(repo, ref)
    changed: set[str] = set()
    deleted: set[str] = set()
    # --no-renames: a rename is reported as D old + A new, which is exactly what callers want.
    out = _git(repo, "diff", "--name-status", "--no-renames", "--no-relative", "-z", base.hexsha, "--")
    fields = out.split("\0")[:-1]  # -z ends every field with NUL
    for status, path in zip(fields[0::2], fields[1::2], strict=True):
        (deleted if status == "D" else changed).add(path)
    changed |= set(repo.untracked_files)
    # `git rm --cached f` leaves f deleted in the index but present (untracked) on disk.
    return ChangedPaths(
        changed=tuple(sorted(changed)),
        deleted=tuple(sorted(deleted - changed)),
        base=base.hexsha,
        top=_top(repo),
    )


def merge_base(repo: git.Repo, ref: str) -> git.Commit:
    """The best common ancestor of `ref` and HEAD; GitError for an unknown ref."""
    target = resolve(repo, ref)
    head = resolve(repo, "HEAD")
    bases = repo.merge_base(target, head)
    if not bases or not isinstance(bases[0], git.Commit):
        hint = (
            " (a shallow clone? check out with fetch-depth: 0)"
            if repo.git.rev_parse("--is-shallow-repository") == "true"
            else ""
        )
        raise GitError(f"'{ref}' and HEAD have no common history{hint}")
    return bases[0]


def resolve(repo: git.Repo, ref: str) -> git.Commit:
    """The commit a branch, tag, SHA or expression (`origin/main`, `HEAD~1`) names."""
    try:
        found = repo.commit(ref)
        found.tree  # noqa: B018  a full SHA is taken on trust until its object is read
    except (git.BadName, git.BadObject, ValueError, IndexError):
        # A shallow CI checkout (actions/checkout's default depth 1) has no base branch at all.
        raise GitError(f"unknown git ref '{ref}'") from None
    return found


def select_affected(
    specs: Iterable[EnvironmentSpec], changed: ChangedPaths, root: Path
) -> tuple[EnvironmentSpec, ...]:
    """The specs whose YAML, conda file or any file of their local build context changed.

    Relative spec paths are taken relative to `root` (the envsync root).
    """
    return tuple(
        spec
        for spec in specs
        if any(
            rel is not None and changed.touches(rel)
            for rel in (_relative_to_top(root / p, changed.top) for p in spec.inputs)
        )
    )


def deleted_environment_names(
    repo: git.Repo,
    ref: str,
    changed: ChangedPaths,
    root: Path,
    *,
    patterns: Sequence[str] = DEFAULT_GLOBS,
    defined: Iterable[str] = (),
) -> tuple[str, ...]:
    """Names of environments whose YAML was deleted since the merge base of `ref` and HEAD.

    Deleted files matching the environment `patterns` (relative to `root`) are read as they were
    at the merge base; unparseable files and YAMLs that are not environments (a conda file has a
    `name` too) are ignored. A name still `defined` elsewhere, after a rename, is not deleted.
    """
    tree = merge_base(repo, ref).tree
    prefix = _prefix(_top(repo), root)
    keep = set(defined)
    names = set()
    for path in changed.deleted:
        rel = _under(path, prefix)
        if rel is None or not any(glob_match(rel, p) for p in patterns):
            continue
        name = _environment_name(_blob_text(tree, path))
        if name is not None and name not in keep:
            names.add(name)
    return tuple(sorted(names))


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
    if not pats:
        return not parts
    if pats[0] == "**":
        return _match(parts, pats[1:]) or (bool(parts) and _match(parts[1:], pats))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pats[0]) and _match(parts[1:], pats[1:])


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
    rel = _relative_to_top(absolute, top)
    source = rel if rel is not None else _relative(absolute, root)
    folders = untracked_under if untracked_under is not None else (absolute.parent,)
    under = [
        r for r in (_relative_to_top(Path(os.path.abspath(root / f)), top) for f in folders) if r is not None
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


def _blob_text(tree: git.Tree, path: str) -> str | None:
    try:
        item = tree / path
    except KeyError:
        return None
    if not isinstance(item, git.Blob):
        return None
    try:
        return bytes(item.data_stream.read()).decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _top(repo: git.Repo) -> Path:
    if repo.working_tree_dir is None:
        raise GitError(f"{repo.git_dir}: a bare repository has no working tree")
    return Path(repo.working_tree_dir)


def _prefix(top: Path, root: Path) -> str:
    rel = _relative_to_top(Path(os.path.abspath(root)), top)
    if rel is None:
        raise GitError(f"{root} is not inside the repository at {top}")
    return "" if rel == "." else rel


def _under(path: str, prefix: str) -> str | None:
    if not prefix:
        return path
    return path[len(prefix) + 1 :] if path.startswith(prefix + "/") else None


def _relative_to_top(path: Path, top: Path) -> str | None:
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


def _relative(path: Path, root: Path) -> str:
    absolute, base = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    return absolute.relative_to(base).as_posix() if absolute.is_relative_to(base) else path.as_posix()
