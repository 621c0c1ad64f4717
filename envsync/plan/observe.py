"""Read what a plan needs from a workspace: containers once, then versions in parallel."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from envsync.plan import last_applied
from envsync.plan.model import ObservedEnvironment, ObservedState
from envsync.spec import EnvironmentSpec
from envsync.workspace import Container, ListView, Workspace


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
    requests at a time. With `refresh`, that is every non-curated environment. Without it,
    environments whose last-applied record matches git are not read (they are unchanged), nor
    are environments outside git that envsync never recorded applying (they hold no orphans).
    `only` restricts the reads to those names. `listed` gives the listing when it was started
    early (see `EarlyListing`)."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        containers = _containers(workspace, only, pool, concurrency, listed)
        by_name = {s.name: s for s in specs}
        unchanged = frozenset(
            ()
            if refresh
            else (n for n, s in by_name.items() if last_applied.unchanged(s, containers.get(n), ignore_tags))
        )
        wanted = sorted(
            n
            for n, c in containers.items()
            if not c.curated
            and n not in exclude
            and n not in unchanged
            and (refresh or n in by_name or last_applied.read(c) is not None)
            and (only is None or n in only)
        )
        found = pool.map(lambda n: workspace.list_versions(n, ListView.ALL), wanted)
        environments = {
            name: ObservedEnvironment(name, containers.get(name), tuple(versions))
            for name, versions in zip(wanted, found, strict=True)
        }
    return ObservedState(containers=containers, environments=environments, unchanged=unchanged)


def _containers(
    workspace: Workspace,
    only: frozenset[str] | None,
    pool: ThreadPoolExecutor,
    concurrency: int,
    listed: Callable[[], Iterable[Container]] | None,
) -> dict[str, Container]:
    """Every container; for a selection of at most `concurrency` names, just theirs: one round
    of concurrent GETs costs no more than the first page of a full listing."""
    if only is not None and len(only) <= concurrency:
        return {c.name: c for c in pool.map(workspace.get_environment, sorted(only)) if c is not None}
    found = listed() if listed is not None else workspace.list_environments(ListView.ALL)
    return {c.name: c for c in found}


class EarlyListing:
    """A workspace's containers, listed in a background thread while git's YAMLs load, so the
    listing's pages and the parsing overlap instead of adding up. A daemon thread: a run that
    fails to load its specs exits without waiting for it."""

    def __init__(self, workspace: Workspace):
        self._done = threading.Event()
        self._found: list[Container] = []
        self._error: BaseException | None = None
        threading.Thread(target=self._list, args=(workspace,), daemon=True, name="early-listing").start()

    def _list(self, workspace: Workspace) -> None:
        try:
            self._found = list(workspace.list_environments(ListView.ALL))
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            self._error = e
        finally:
            self._done.set()

    def __call__(self) -> list[Container]:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._found


def observe_environment(workspace: Workspace, name: str) -> ObservedEnvironment:
    """Re-read one environment (for the stale-plan check before applying a change to it)."""
    versions = tuple(workspace.list_versions(name, ListView.ALL))
    return ObservedEnvironment(name, workspace.get_environment(name), versions)
