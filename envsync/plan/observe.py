"""Read what a plan needs from a workspace: containers once, then versions in parallel."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Generic, TypeVar, cast

from envsync.plan import last_applied
from envsync.plan.model import ObservedEnvironment, ObservedState
from envsync.spec.load import EnvironmentSpec
from envsync.workspace import Container, ListView, RemoteVersion, Workspace

T = TypeVar("T")


def observe(
    workspace: Workspace,
    specs: Sequence[EnvironmentSpec] = (),
    *,
    concurrency: int = 8,
    exclude: frozenset[str] = frozenset(),
    ignore_tags: frozenset[str] = frozenset(),
    refresh: bool = True,
    only: frozenset[str] | None = None,
    listed: Callable[[], Iterable[Container]] | None = None,
) -> ObservedState:
    """List the containers (paged), then read the versions the plan needs, `concurrency`
    requests at a time. With `refresh`, that is every non-curated environment, each read as soon
    as its page arrives (and `specs` are not needed). Without it, environments whose
    last-applied record matches git are not read (they are unchanged); every other one is,
    git's or not, recorded or not: an apply killed between writing a version and its record
    leaves an orphan on a container without one (as do envsyncs older than the record), and only
    its versions tell. That costs a request per plan for each environment made by hand outside
    git (`exclude` them to skip it). `only` restricts the reads to those names. `listed` gives
    the listing when it was started `Early`.

    Lists lag writes on the service (by seconds): right after an apply, the listing can miss a
    new environment, or show a container's old record and latest version, and a version list
    can miss the newest version. So what the listing cannot settle for git's environments (one
    it lacks; without `refresh`, also one whose record does not match) is checked against the
    container itself, a GET, which is current: first for a sample (`_confirm`), then for all of
    them if the sample shows the listing lagging; a version list missing the container's latest
    version, or a version git pins, is completed by GETs of those (`versions`). With `refresh`,
    the listed containers themselves are trusted: within seconds of an apply it can still see
    the state before it."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        containers: dict[str, Container] = {}
        reads: dict[str, Future[list[RemoteVersion]]] = {}
        for c in _containers(workspace, only, pool, concurrency, listed):
            containers[c.name] = c
            if refresh and _observable(c, exclude, only):
                reads[c.name] = pool.submit(versions, workspace, c)
        by_name = {s.name: s for s in specs}
        if not _fetched(only, concurrency):
            doubtful = _doubtful(containers, by_name, exclude, ignore_tags, only, absent_only=refresh)
            _confirm(workspace, pool, containers, doubtful, sample=concurrency)
        unchanged = frozenset(
            ()
            if refresh
            else (n for n, s in by_name.items() if last_applied.unchanged(s, containers.get(n), ignore_tags))
        )
        for name, c in containers.items():
            if name not in reads and name not in unchanged and _observable(c, exclude, only):
                spec = by_name.get(name)
                pinned = (spec.version,) if spec is not None and spec.version else ()
                reads[name] = pool.submit(versions, workspace, c, pinned)
        environments = {
            name: ObservedEnvironment(name, containers[name], tuple(reads[name].result()))
            for name in sorted(reads)
        }
    return ObservedState(containers=containers, environments=environments, unchanged=unchanged)


def _fetched(only: frozenset[str] | None, concurrency: int) -> bool:
    """Whether `_containers` GETs the containers (current) rather than listing them."""
    return only is not None and len(only) <= concurrency


def _doubtful(
    containers: dict[str, Container],
    specs: dict[str, EnvironmentSpec],
    exclude: frozenset[str],
    ignore_tags: frozenset[str],
    only: frozenset[str] | None,
    *,
    absent_only: bool,
) -> list[str]:
    """git's environments the listing cannot settle, by name: absent (new, or made seconds
    ago), or (unless `absent_only`) with a record that does not say unchanged (changed, or
    recorded seconds ago)."""

    def settled(name: str, spec: EnvironmentSpec) -> bool:
        if absent_only:
            return name in containers
        return last_applied.unchanged(spec, containers.get(name), ignore_tags)

    wanted = (n for n, s in specs.items() if n not in exclude and (only is None or n in only))
    return sorted(n for n in wanted if not settled(n, specs[n]))


def _confirm(
    workspace: Workspace,
    pool: ThreadPoolExecutor,
    containers: dict[str, Container],
    doubtful: list[str],
    *,
    sample: int,
) -> None:
    """Replace the listing's view of the `doubtful` containers by what a GET of each says.
    The first `sample` of them (by name: the order an apply writes them in, so a recent or
    interrupted one shows there first) are read; only if one of those differs from the listing,
    which then lags, are the rest read too. A plan of many new or changed environments costs
    one round of GETs, not one per environment, unless an apply just wrote them."""
    head, rest = doubtful[: max(1, sample)], doubtful[max(1, sample) :]
    if not _settle(workspace, pool, containers, head) and rest:
        _settle(workspace, pool, containers, rest)


def _settle(
    workspace: Workspace, pool: ThreadPoolExecutor, containers: dict[str, Container], names: list[str]
) -> bool:
    """GET `names` into `containers`; whether the listing agreed with every one of them."""
    agreed = True
    for name, found in zip(names, pool.map(workspace.get_environment, names), strict=True):
        agreed = agreed and found == containers.get(name)
        if found is None:
            containers.pop(name, None)
        else:
            containers[name] = found
    return agreed


def with_missing(
    workspace: Workspace, observed: ObservedState, specs: Sequence[EnvironmentSpec], *, concurrency: int = 8
) -> ObservedState:
    """A --refresh observation made before git's specs were loaded, plus git's environments
    its (lagging) listing missed: a GET for each name it lacks, and their versions if found."""
    missing = [s.name for s in specs if s.name not in observed.containers]
    if not missing:
        return observed
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        found = [c for c in pool.map(workspace.get_environment, missing) if c is not None and not c.curated]
        read = list(pool.map(lambda c: versions(workspace, c), found))
    environments = {
        c.name: ObservedEnvironment(c.name, c, tuple(v)) for c, v in zip(found, read, strict=True)
    }
    return replace(
        observed,
        containers={**observed.containers, **{c.name: c for c in found}},
        environments={**observed.environments, **environments},
    )


def versions(workspace: Workspace, container: Container, pinned: Iterable[str] = ()) -> list[RemoteVersion]:
    """The container's versions, newest first. A lagging list can miss the newest ones: the
    version the container names as its latest (a GET of the container is current) and any in
    `pinned` that the list lacks are read one by one."""
    listed = workspace.list_versions(container.name, ListView.ALL)
    have = {v.version for v in listed}
    missing = [v for v in dict.fromkeys((container.latest_version, *pinned)) if v and v not in have]
    extra = [found for v in missing if (found := workspace.get_version(container.name, v)) is not None]
    if not extra:
        return listed
    return sorted([*extra, *listed], key=lambda v: v.created, reverse=True)


def narrowed(
    observed: ObservedState, specs: Sequence[EnvironmentSpec], ignore_tags: frozenset[str] = frozenset()
) -> ObservedState:
    """A --refresh observation as a plain one would have made it: the environments whose
    last-applied record matches git unchanged, their versions set aside. (An observation
    started before git's specs were known reads them all.)"""
    containers = observed.containers
    unchanged = frozenset(
        s.name for s in specs if last_applied.unchanged(s, containers.get(s.name), ignore_tags)
    )
    environments = {n: e for n, e in observed.environments.items() if n not in unchanged}
    return ObservedState(containers=containers, environments=environments, unchanged=unchanged)


def _observable(container: Container, exclude: frozenset[str], only: frozenset[str] | None) -> bool:
    name = container.name
    return not container.curated and name not in exclude and (only is None or name in only)


def _containers(
    workspace: Workspace,
    only: frozenset[str] | None,
    pool: ThreadPoolExecutor,
    concurrency: int,
    listed: Callable[[], Iterable[Container]] | None,
) -> Iterable[Container]:
    """Every container, page by page; for a selection of at most `concurrency` names, just
    theirs: one round of concurrent GETs costs no more than the first page of a full listing."""
    if only is not None and len(only) <= concurrency:
        return [c for c in pool.map(workspace.get_environment, sorted(only)) if c is not None]
    return listed() if listed is not None else workspace.list_environments(ListView.ALL)


class Early(Generic[T]):
    """`work()` started now in a background thread, its result (or error) handed over when
    called: a target's containers listed, or a --refresh observation made, while git's YAMLs
    load, so the network and the parsing overlap instead of adding up. A daemon thread: a run
    that fails to load its specs exits without waiting for it."""

    def __init__(self, work: Callable[[], T]):
        self._done = threading.Event()
        self._result: T | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, args=(work,), daemon=True, name="envsync-early").start()

    def _run(self, work: Callable[[], T]) -> None:
        try:
            self._result = work()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            self._error = e
        finally:
            self._done.set()

    def __call__(self) -> T:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return cast(T, self._result)


def observe_environment(workspace: Workspace, name: str) -> ObservedEnvironment:
    """Re-read one environment (for the stale-plan check before applying a change to it): its
    container (current), then its versions, completed where a lagging list misses its latest."""
    container = workspace.get_environment(name)
    if container is None:
        return ObservedEnvironment(name, None, tuple(workspace.list_versions(name, ListView.ALL)))
    return ObservedEnvironment(name, container, tuple(versions(workspace, container)))
