"""Read what a plan needs from a workspace: containers once, then versions in parallel."""

from __future__ import annotations

from collections.abc import Sequence
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
) -> ObservedState:
    """List the containers (paged), then read the versions the plan needs, `concurrency`
    requests at a time. With `refresh`, that is every non-curated environment. Without it,
    environments whose last-applied record matches git are not read (they are unchanged), nor
    are environments outside git that envsync never recorded applying (they hold no orphans).
    `only` restricts the reads to those names."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        containers = _containers(workspace, only, pool, concurrency)
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
    workspace: Workspace, only: frozenset[str] | None, pool: ThreadPoolExecutor, concurrency: int
) -> dict[str, Container]:
    """Every container; for a selection of at most `concurrency` names, just theirs: one round
    of concurrent GETs costs no more than the first page of a full listing."""
    if only is not None and len(only) <= concurrency:
        return {c.name: c for c in pool.map(workspace.get_environment, sorted(only)) if c is not None}
    return {c.name: c for c in workspace.list_environments(ListView.ALL)}


def observe_environment(workspace: Workspace, name: str) -> ObservedEnvironment:
    """Re-read one environment (for the stale-plan check before applying a change to it)."""
    versions = tuple(workspace.list_versions(name, ListView.ALL))
    return ObservedEnvironment(name, workspace.get_environment(name), versions)
