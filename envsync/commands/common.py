"""What the commands share: the App, opening targets, colour, confirmation, progress,
and the job/deployment reference checks."""

from __future__ import annotations

import os
import sys
import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import click

from envsync.errors import EnvsyncError, GitError
from envsync.text import escape

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from envsync.apply.result import ChangeResult
    from envsync.commands.progress import ReadProgress
    from envsync.config import Config, Target
    from envsync.gitops.index import Snapshot
    from envsync.http.retrying import RetryNotice
    from envsync.plan.model import Plan
    from envsync.plan.selection import NameFilter
    from envsync.spec.files import RepoFiles
    from envsync.spec.load import LoadResult
    from envsync.workspace import Workspace


@dataclass
class App:
    """What every command shares: the repository root and its config, loaded on first use;
    one walk of the repository and one snapshot of git, taken on first use."""

    root: Path
    quiet: bool = False  # -q: no progress lines
    no_git: bool = False  # --no-git / ENVSYNC_NO_GIT: plan, apply and drift outside a repository

    @cached_property
    def config(self) -> Config:
        from envsync import config

        return config.load(self.root, cache=self.writable)

    @cached_property
    def in_repository(self) -> bool:
        from envsync.gitops.index import find_top, inside_work_tree

        return find_top(self.root) is not None or inside_work_tree(self.root)

    @property
    def writable(self) -> bool:
        """Whether envsync may keep files (.envsync/) at the root: not outside a repository."""
        return self.no_git or self.in_repository

    def require_git(self) -> None:
        """plan, apply and drift act on what git defines, and record its commit: a folder
        outside any repository (a shared scratch folder of other people's YAMLs) is refused,
        before anything is read or written there, unless the run opted out."""
        if not self.no_git and not self.in_repository:
            raise GitError(
                f"{self.root} is not inside a git repository: envsync plans what git defines; run "
                "it in one (git init), or pass --no-git (ENVSYNC_NO_GIT=1) to plan a plain folder"
            )

    @cached_property
    def files(self) -> RepoFiles:
        from envsync.spec.files import walk

        self._git  # noqa: B018  git's commands run while the tree is walked
        return walk(self.config.root)

    @cached_property
    def git(self) -> Snapshot | None:
        return self._git()

    @cached_property
    def _git(self) -> Callable[[], Snapshot | None]:
        from envsync.gitops.index import start_snapshot

        return start_snapshot(self.config.root)

    def load_all(self, paths: Sequence[Path] = ()) -> LoadResult:
        """Git's environment files, through the validation cache."""
        from envsync.gitops.index import GitKeys
        from envsync.spec.cache import open_cache
        from envsync.spec.load import load_all

        keys = GitKeys(self.git, self.files)
        cache = open_cache(self.config.root, keys, self.config.policies, enabled=self.writable)
        return load_all(self.config, paths, cache=cache, files=self.files)


@dataclass(frozen=True)
class Opened:
    """A configured target and the workspace it names, opened (counting its reads on
    `progress` unless -q)."""

    target: Target
    workspace: Workspace
    progress: ReadProgress | None = None

    def read(self) -> None:
        """The reads are over: end the progress line before the output."""
        if self.progress is not None:
            self.progress.close()


def open_target(app: App, target_name: str | None, *, progress: bool = False) -> Opened:
    from envsync.commands.progress import ReadProgress, counting
    from envsync.workspace.factory import open_workspace

    target = app.config.target(target_name)
    shown = ReadProgress(f"Reading {target.name}") if progress and not app.quiet else None
    return Opened(target, counting(open_workspace(target, on_retry=echo_retry), shown), shown)


PHASE_SECONDS = 3600.0  # a backstop: a throttled apply of thousands of versions takes minutes


def timed(opened: Opened, label: str) -> AbstractContextManager[None]:
    """A deadline on one phase of a command against `opened`'s target (ENVSYNC_PHASE_TIMEOUT
    seconds, default an hour): an endpoint that hangs ends it with a line naming the phase, not
    with the CI job's own timeout. A local workspace has no network to wait on."""
    phase = getattr(opened.workspace, "phase", None)
    if phase is None:
        return nullcontext()
    found = phase(f"{label} {opened.target.name}", phase_seconds())
    assert isinstance(found, AbstractContextManager)
    return found


def phase_seconds() -> float:
    text = os.environ.get("ENVSYNC_PHASE_TIMEOUT")
    if not text:
        return PHASE_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise EnvsyncError(f"ENVSYNC_PHASE_TIMEOUT must be a number of seconds above 0, not {text!r}")
    return seconds


def echo_retry(notice: RetryNotice) -> None:
    """A retry, on stderr as it starts waiting: a slow run says why it is slow."""
    click.echo(f"envsync: {escape.terminal(notice.line())}", err=True)  # its reason quotes the endpoint


def selecting(command: Callable[..., object]) -> Callable[..., object]:
    """--name and --exclude, as Terraform's -target and OpenTofu's -exclude."""
    command = click.option(
        "--exclude",
        "exclude",
        multiple=True,
        metavar="NAME",
        help="Leave out environments named NAME (globs allowed; repeatable).",
    )(command)
    return click.option(
        "--name",
        "names",
        multiple=True,
        metavar="NAME",
        help="Only environments named NAME (globs allowed, e.g. 'sklearn-*'; repeatable). The run is "
        "partial: nothing else is planned, applied, archived or reported.",
    )(command)


def name_filter(names: tuple[str, ...], exclude: tuple[str, ...]) -> NameFilter:
    from envsync.plan.selection import NameFilter

    return NameFilter(tuple(names), tuple(exclude))


def open_planned(app: App, target_name: str | None, *, progress: bool = False) -> Opened:
    """`open_target` for plan, apply and drift: a target whose `environments` globs pick
    none of the repository's environment files is an error (its plan would define nothing)."""
    from envsync.errors import ConfigError
    from envsync.spec.load import target_glob_problems

    name = app.config.target(target_name).name
    problems = target_glob_problems(app.config, name, app.files)
    if problems:
        raise ConfigError(str(problems[0]))
    return open_target(app, target_name, progress=progress)


def use_color(no_color: bool) -> bool:
    return not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()


def check_references(app: App, opened: Opened, result: Plan, *, annotate: bool = False) -> tuple[Plan, bool]:
    """Job and deployment references, checked against the target and what the plan creates
    (problems go to stderr), and listed under the new versions they pick up. A workspace's plan
    checks `azureml:NAME...` references; a registry's its `azureml://registries/REG/...` ones."""
    from envsync.commands.reporting import echo_problems
    from envsync.config import REGISTRY
    from envsync.plan import references as planned
    from envsync.spec import known as knowing
    from envsync.spec import references
    from envsync.spec.problems import Severity

    config = app.config
    registry = opened.target.registry if opened.target.kind == REGISTRY else None
    found = references.scan(config.root, config.references, config.environments, app.files)
    listed = planned.read_versions(opened.workspace, found.references, registry)
    known = planned.workspace_known(result, listed, registry)
    problems = sorted([*found.problems, *knowing.check(found.references, known)])
    echo_problems(app, problems, annotate=annotate, title="envsync plan", err=True)
    broken = any(p.severity is Severity.ERROR for p in problems)  # files it could not read: warnings
    return planned.annotate(result, found.references, registry), broken


def with_references(app: App, result: LoadResult, policy_key: str = "") -> LoadResult:
    """Validate's repo-only reference check: names the repo defines, or Azure's curated naming
    (there is no workspace to list versions from); and policy `policy_key`'s reference rule."""
    from dataclasses import replace

    from envsync.spec import known as knowing
    from envsync.spec import references
    from envsync.spec.policy import references as reference_policy

    config = app.config
    found = references.scan(config.root, config.references, config.environments, app.files)
    names = {s.name for s in result.specs}
    known = knowing.repo_known(names)
    verdict = reference_policy.check(found.references, names, config.policies[policy_key], config.root)
    problems = {
        *result.problems,
        *found.problems,
        *knowing.check(found.references, known),
        *verdict.problems,
    }
    suppressed = tuple(sorted({*result.suppressed, *verdict.suppressed}))
    return replace(result, problems=tuple(sorted(problems)), suppressed=suppressed)


def approved(auto_approve: bool) -> bool:
    if auto_approve:
        return True
    if not sys.stdin.isatty():
        raise EnvsyncError("not on a terminal: pass --auto-approve to apply without confirmation")
    return click.confirm("Apply these changes?", default=False)


class Progress:
    """One line per finished change; on a terminal successes share one live line; with
    `quiet`, failures only."""

    def __init__(self, total: int, *, err: bool = False, quiet: bool = False):
        stream = sys.stderr if err else sys.stdout
        self.total, self.done, self.live, self.err = total, 0, stream.isatty() and not quiet, err
        self.quiet = quiet
        self.lock = threading.Lock()

    def __call__(self, result: ChangeResult) -> None:
        with self.lock:
            self.done += 1
            if self.quiet and not result.failed:
                return
            line = f"[{self.done}/{self.total}] {result.line()}"
            if self.live and not result.failed:
                click.echo(f"\r\033[K{line}", nl=False, err=self.err)
            else:
                click.echo(("\r\033[K" if self.live else "") + line, err=self.err)

    def finish(self) -> None:
        if self.live and self.done:
            click.echo(err=self.err)


_RATE = click.FloatRange(0, 1, max_open=True)
_REFILL = click.FloatRange(0, min_open=True)
