"""Git as one command run sees it: read once, then handed to whatever needs it.

HEAD's commit and whether the environment files are dirty (for provenance and apply's dirty
check), the environments changed since a ref (`--changed-since`), and the environments as
they are at a ref (`--at`).
"""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import git

from envsync.config import Config
from envsync.errors import GitError
from envsync.gitops import git as gitops
from envsync.spec.load import load_valid
from envsync.spec.model import EnvironmentSpec
from envsync.workspace import COMMIT_PROPERTY, SOURCE_PROPERTY


@dataclass(frozen=True)
class GitState:
    """HEAD's SHA (suffixed -dirty when environment files have uncommitted changes; None
    outside git), whether they do, and the folder source paths are relative to."""

    commit: str | None
    dirty: bool
    top: Path

    def properties(self, spec: EnvironmentSpec) -> dict[str, str]:
        """Provenance properties for a version apply creates: repo-relative source, commit."""
        props = {SOURCE_PROPERTY: gitops.provenance(None, self.top, spec.source).source}
        return props | ({COMMIT_PROPERTY: self.commit} if self.commit else {})

    def refuse_dirty(self) -> None:
        if self.dirty:
            raise GitError(
                "the working tree has uncommitted changes: commit them so the versions record where "
                "they came from, or pass --allow-dirty"
            )


def read_state(config: Config, specs: Sequence[EnvironmentSpec]) -> GitState:
    repo = gitops.repo_at(config.root)
    folders = sorted({s.source.parent for s in specs}) or [config.root]
    found = gitops.provenance(repo, config.root, folders[0], untracked_under=folders)
    top = Path(repo.working_tree_dir) if repo is not None and repo.working_tree_dir else config.root
    return GitState(commit=found.commit, dirty=found.dirty, top=top)


@dataclass(frozen=True)
class Selection:
    """The specs a plan covers, and the names it observes (None: all of them)."""

    specs: tuple[EnvironmentSpec, ...]
    only: frozenset[str] | None = None
    root: Path | None = None  # where the specs were loaded, when not the repository (--at)


def changed_since(config: Config, specs: Sequence[EnvironmentSpec], ref: str) -> Selection:
    """The environments whose YAML, conda file or build context changed since `ref` (merge
    base, as a pull request sees it), plus those whose YAML was deleted."""
    repo = _repo(config, "--changed-since")
    changed = gitops.changed_paths(repo, ref)
    affected = gitops.select_affected(specs, changed, config.root)
    deleted = gitops.deleted_environment_names(
        repo,
        ref,
        changed,
        config.root,
        patterns=config.environments,
        defined={s.name for s in specs},
    )
    return Selection(affected, frozenset(s.name for s in affected) | frozenset(deleted))


@contextmanager
def specs_at(config: Config, ref: str) -> Iterator[Selection]:
    """The environments as git has them at `ref`, read from an export of that tree (conda files
    and build contexts included) without touching the working tree."""
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
    repo = gitops.repo_at(config.root)
    if repo is None:
        raise GitError(f"{option} needs a git repository, and {config.root} is not in one")
    return repo


def _extract(tar: tarfile.TarFile, dest: Path) -> None:
    if hasattr(tarfile, "data_filter"):  # Python 3.10.12+: refuse links and paths escaping dest
        tar.extractall(dest, filter="data")
    else:  # an archive git just made of this repository
        tar.extractall(dest)  # noqa: S202
