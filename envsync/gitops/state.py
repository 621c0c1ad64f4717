"""Git as one command run sees it: read once, then handed to whatever needs it.

HEAD's commit and whether the environment files are dirty (for provenance and apply's dirty
check), the environments changed since a ref (`--changed-since`), and the environments as
they are at a ref (`--at`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from envsync.config import Config
from envsync.errors import GitError
from envsync.gitops.changes import ChangedPaths
from envsync.gitops.index import Snapshot, relative_posix
from envsync.spec.load import load_valid
from envsync.spec.model import EnvironmentSpec
from envsync.workspace import COMMIT_PROPERTY, SOURCE_PROPERTY

if TYPE_CHECKING:
    import tarfile

    import git

# GitPython (envsync.gitops.git) is imported only by what needs more than the run's snapshot:
# --changed-since, --at, and runs where the snapshot could not be read.


@dataclass(frozen=True)
class GitState:
    """HEAD's SHA (suffixed -dirty when environment files have uncommitted changes; None
    outside git), whether they do, and the folder source paths are relative to."""

    commit: str | None
    dirty: bool
    top: Path

    def properties(self, spec: EnvironmentSpec) -> dict[str, str]:
        """Provenance properties for a version apply creates: repo-relative source, commit."""
        props = {SOURCE_PROPERTY: relative_posix(spec.source, self.top)}
        return props | ({COMMIT_PROPERTY: self.commit} if self.commit else {})

    def refuse_dirty(self) -> None:
        if self.dirty:
            raise GitError(
                "the working tree has uncommitted changes: commit them so the versions record where "
                "they came from, or pass --allow-dirty"
            )


def read_state(config: Config, specs: Sequence[EnvironmentSpec], snap: Snapshot | None = None) -> GitState:
    """HEAD and the dirty check: from the run's `snap` when there is one, else asking git."""
    folders = sorted({s.source.parent for s in specs}) or [config.root]
    if snap is not None:
        return _from_snapshot(snap, lambda: feeds_plan(config, specs, snap))
    from envsync.gitops import git as gitops

    repo = gitops.repo_at(config.root)
    found = gitops.provenance(repo, config.root, folders[0], untracked_under=folders)
    top = Path(repo.working_tree_dir) if repo is not None and repo.working_tree_dir else config.root
    return GitState(commit=found.commit, dirty=found.dirty, top=top)


def feeds_plan(config: Config, specs: Sequence[EnvironmentSpec], snap: Snapshot) -> Callable[[str], bool]:
    """Whether a top-relative path is something a plan reads: envsync.yaml, an environment YAML
    (one the globs match, deleted ones too), a conda file, or a file of a local build context.
    An edit to anything else (README.md) leaves the plan, and the versions' provenance, as is."""
    from envsync.spec.files import compile_glob

    files, folders = {config.root / "envsync.yaml"}, set()
    for spec in specs:
        files |= {spec.source, *((spec.conda_source,) if spec.conda_source else ())}
        folders |= {Path(spec.build.path)} if spec.build is not None and not spec.build.remote else set()
    exact = {r for r in (snap.relative(Path(os.path.abspath(f))) for f in files if f) if r is not None}
    inside = tuple(f"{r}/" for r in (snap.relative(Path(os.path.abspath(f))) for f in folders) if r)
    root = snap.relative(Path(os.path.abspath(config.root))) or ""
    globs = [compile_glob(f"{root}/{g}" if root else g) for g in config.environments]
    return lambda path: path in exact or path.startswith(inside) or any(g.match(path) for g in globs)


def _from_snapshot(snap: Snapshot, feeds: Callable[[], Callable[[str], bool]]) -> GitState:
    if snap.head is None:  # a repository without commits yet
        return GitState(commit=None, dirty=True, top=snap.top)
    unclean = (*snap.modified, *snap.untracked)
    dirty = bool(unclean) and any(map(feeds(), unclean))  # the inputs are listed only if needed
    return GitState(commit=snap.head + ("-dirty" if dirty else ""), dirty=dirty, top=snap.top)


@dataclass(frozen=True)
class Selection:
    """The specs a plan covers, and the names it observes (None: all of them)."""

    specs: tuple[EnvironmentSpec, ...]
    only: frozenset[str] | None = None
    root: Path | None = None  # where the specs were loaded, when not the repository (--at)


def changed_since(
    config: Config,
    specs: Sequence[EnvironmentSpec],
    ref: str,
    snap: Snapshot | None = None,
    *,
    changed: ChangedPaths | None = None,
) -> Selection:
    """The environments whose YAML, conda file or build context changed since `ref` (merge
    base, as a pull request sees it), plus those whose YAML was deleted. The run's `snap`
    gives the untracked files; `changed`, what changed, when a `guess` already asked."""
    from envsync.gitops import changes

    top = snap.top if snap is not None else _top(_repo(config, "--changed-since"))
    if changed is None:
        changed = changes.changed_paths(top, ref, untracked=snap.untracked if snap is not None else None)
    affected = changes.select_affected(specs, changed, config.root)
    deleted = changes.deleted_environment_names(
        top, changed, config.root, patterns=config.environments, defined={s.name for s in specs}
    )
    return Selection(affected, frozenset(s.name for s in affected) | frozenset(deleted))


@dataclass(frozen=True)
class Guess:
    """What changed since a ref, and the names `changed_since` will most likely select: those
    its changed environment YAMLs hold and those its deleted ones held. Known before any YAML
    is validated, so a plan can start reading them while the rest loads; the selection made
    afterwards decides (inputs that changed add names only it can see)."""

    changed: ChangedPaths
    names: frozenset[str]


def guess(config: Config, ref: str, snap: Snapshot | None) -> Guess | None:
    """None when git cannot answer yet: `changed_since` reports why, in its turn."""
    from envsync.gitops import changes
    from envsync.spec.files import compile_glob

    if snap is None:
        return None
    try:
        changed = changes.changed_paths(snap.top, ref, untracked=snap.untracked)
        prefix = changes.prefix_of(snap.top, config.root)
    except GitError:
        return None
    names = set(
        changes.deleted_environment_names(snap.top, changed, config.root, patterns=config.environments)
    )
    patterns = [compile_glob(g) for g in config.environments]
    for path in changed.changed:
        rel = (
            path[len(prefix) + 1 :] if prefix and path.startswith(prefix + "/") else None if prefix else path
        )
        if rel is not None and any(p.match(rel) for p in patterns):
            names.update(changes.environment_name_at(snap.top / path))
    return Guess(changed, frozenset(names))


@contextmanager
def specs_at(config: Config, ref: str) -> Iterator[Selection]:
    """The environments as git has them at `ref`, read from an export of that tree (conda files
    and build contexts included) without touching the working tree."""
    import tarfile
    import tempfile

    from envsync.gitops import git as gitops

    repo = _repo(config, "--at")
    commit = gitops.resolve(repo, ref)
    top = Path(repo.working_tree_dir or config.root)
    with tempfile.TemporaryDirectory(prefix="envsync-at-") as tmp:
        archive = Path(tmp) / "tree.tar"
        with archive.open("wb") as f:
            repo.archive(f, treeish=commit.hexsha, format="tar")
        with tarfile.open(archive) as tar:
            _extract(tar, Path(tmp) / "tree")
        root = Path(tmp) / "tree" / config.root.resolve().relative_to(top.resolve())
        yield Selection(load_valid(replace(config, root=root)), root=root)


def _repo(config: Config, option: str) -> git.Repo:
    from envsync.gitops import git as gitops

    repo = gitops.repo_at(config.root)
    if repo is None:
        raise GitError(f"{option} needs a git repository, and {config.root} is not in one")
    return repo


def _top(repo: git.Repo) -> Path:
    if repo.working_tree_dir is None:
        raise GitError(f"{repo.git_dir}: a bare repository has no working tree")
    return Path(repo.working_tree_dir)


def _extract(tar: tarfile.TarFile, dest: Path) -> None:
    import tarfile

    if hasattr(tarfile, "data_filter"):  # Python 3.10.12+: refuse links and paths escaping dest
        tar.extractall(dest, filter="data")
    else:  # an archive git just made of this repository
        tar.extractall(dest)  # noqa: S202
