"""Read what a plan needs from a workspace: containers once, then versions in parallel."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
    the listing when it was started `Early`."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        containers: dict[str, Container] = {}
        reads: dict[str, Future[list[RemoteVersion]]] = {}
        for c in _containers(workspace, only, pool, concurrency, listed):
            containers[c.name] = c
            if refresh and _observable(c, exclude, only):
                reads[c.name] = pool.submit(workspace.list_versions, c.name, ListView.ALL)
        by_name = {s.name: s for s in specs}
        unchanged = frozenset(
            ()
            if refresh
            else (n for n, s in by_name.items() if last_applied.unchanged(s, containers.get(n), ignore_tags))
        )
        for name, c in containers.items():
            if name not in reads and name not in unchanged and _observable(c, exclude, only):
                reads[name] = pool.submit(workspace.list_versions, name, ListView.ALL)
        environments = {
            name: ObservedEnvironment(name, containers[name], tuple(reads[name].result()))
            for name in sorted(reads)
        }
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
    """Re-read one environment (for the stale-plan check before applying a change to it)."""
    versions = tuple(workspace.list_versions(name, ListView.ALL))
    return ObservedEnvironment(name, workspace.get_environment(name), versions)
