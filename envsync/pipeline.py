"""The steps every command shares: load git's specs, open the target, observe, plan."""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envsync.config import Config, Target
from envsync.errors import GitError, SpecError
from envsync.plan.model import ObservedState, Plan
from envsync.plan.observe import Early, observe
from envsync.plan.planner import PlanOptions, plan
from envsync.spec.load import EnvironmentSpec, load_all
from envsync.workspace import COMMIT_PROPERTY, SOURCE_PROPERTY, Container, ListView, Workspace

if TYPE_CHECKING:
    from envsync.gitops import Provenance


def load_specs(config: Config, paths: Sequence[Path] = ()) -> tuple[EnvironmentSpec, ...]:
    """Git's environments; any invalid file stops everything (nothing is planned or applied)."""
    loaded = load_all(config, paths)
    if loaded.errors:
        count = len(loaded.errors)
        raise SpecError(
            f"{count} problem{'s' * (count != 1)} in environment files; nothing planned",
            details=tuple(str(p) for p in loaded.problems),
        )
    return loaded.specs


def plan_options(config: Config, target: Target) -> PlanOptions:
    return PlanOptions(
        target=target.name,
        root=config.root,
        ignore_tags=config.ignore_tags,
        exclude=config.exclude,
    )


def make_plan(
    config: Config,
    target: Target,
    workspace: Workspace,
    specs: Sequence[EnvironmentSpec],
    *,
    commit: str | None = None,
    refresh: bool = False,
    only: frozenset[str] | None = None,
    early: EarlyRead | None = None,
) -> Plan:
    """Plan `specs` against `workspace`; `only` limits what is observed (and so the orphans
    found) to those names. `early` is what `start_early` began for this target."""
    if early is not None and early.observed is not None and only is None:
        observed = early.observed()
    else:
        observed = observe(
            workspace,
            specs,
            concurrency=config.concurrency,
            exclude=config.exclude,
            ignore_tags=config.ignore_tags,
            refresh=refresh,
            only=only,
            listed=early.listed if early is not None else None,
        )
    result = plan(specs, observed, plan_options(config, target))
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return replace(result, commit=commit, created=now)


@dataclass(frozen=True)
class EarlyRead:
    """What `start_early` began: a whole --refresh observation, or the container listing."""

    observed: Early[ObservedState] | None = None
    listed: Early[list[Container]] | None = None


def start_early(config: Config, workspace: Workspace, *, refresh: bool) -> EarlyRead:
    """Begin reading `workspace` before git's YAMLs are loaded, for `make_plan(early=...)`:
    with `refresh` the whole observation (it needs no specs), else the container listing."""
    if refresh:
        return EarlyRead(
            observed=Early(lambda: observe(workspace, concurrency=config.concurrency, exclude=config.exclude))
        )
    return EarlyRead(listed=Early(lambda: list(workspace.list_environments(ListView.ALL))))


def provenance_for(
    config: Config, specs: Sequence[EnvironmentSpec]
) -> Callable[[EnvironmentSpec], dict[str, str]]:
    """Provenance properties for the versions apply creates: repo-relative source, git commit.

    The commit (and whether the tree is dirty) is read once, here, in the calling thread.
    """
    from envsync import gitops

    repo = gitops.repo_at(config.root)
    commit = head_commit(config, specs)
    top = Path(repo.working_tree_dir) if repo is not None and repo.working_tree_dir else config.root

    def properties(spec: EnvironmentSpec) -> dict[str, str]:
        props = {SOURCE_PROPERTY: gitops.provenance(None, top, spec.source).source}
        return props | ({COMMIT_PROPERTY: commit} if commit else {})

    return properties


def head_commit(config: Config, specs: Sequence[EnvironmentSpec]) -> str | None:
    """HEAD's SHA, suffixed -dirty when environment files have uncommitted changes; None
    outside git."""
    return _git_state(config, specs).commit


def refuse_dirty(config: Config, specs: Sequence[EnvironmentSpec]) -> None:
    state = _git_state(config, specs)
    if state.dirty:
        raise GitError(
            "the working tree has uncommitted changes: commit them so the versions record where "
            "they came from, or pass --allow-dirty"
        )


def _git_state(config: Config, specs: Sequence[EnvironmentSpec]) -> Provenance:
    from envsync import gitops

    repo = gitops.repo_at(config.root)
    folders = sorted({s.source.parent for s in specs}) or [config.root]
    return gitops.provenance(repo, config.root, folders[0], untracked_under=folders)


@dataclass(frozen=True)
class Selection:
    """The specs a plan covers, and the names it observes (None: all of them)."""

    specs: tuple[EnvironmentSpec, ...]
    only: frozenset[str] | None = None


def changed_since(config: Config, specs: Sequence[EnvironmentSpec], ref: str) -> Selection:
    """The environments whose YAML, conda file or build context changed since `ref` (merge
    base, as a pull request sees it), plus those whose YAML was deleted."""
    from envsync import gitops

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
def specs_at(config: Config, ref: str) -> Iterator[tuple[EnvironmentSpec, ...]]:
    """The environments as git has them at `ref`, read from an export of that tree (conda files
    and build contexts included) without touching the working tree."""
    from envsync import gitops

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
        yield load_specs(replace(config, root=root))


def _repo(config: Config, option: str) -> Any:
    from envsync import gitops

    repo = gitops.repo_at(config.root)
    if repo is None:
        raise GitError(f"{option} needs a git repository, and {config.root} is not in one")
    return repo


def _extract(tar: tarfile.TarFile, dest: Path) -> None:
    if hasattr(tarfile, "data_filter"):  # Python 3.10.12+: refuse links and paths escaping dest
        tar.extractall(dest, filter="data")
    else:  # an archive git just made of this repository
        tar.extractall(dest)  # noqa: S202
