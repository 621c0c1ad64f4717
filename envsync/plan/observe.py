"""Read what a plan needs from a workspace: containers once, then versions in parallel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from envsync.plan.model import ObservedEnvironment, ObservedState
from envsync.workspace import ListView, Workspace


def observe(
    workspace: Workspace,
    *,
    concurrency: int = 8,
    exclude: frozenset[str] = frozenset(),
) -> ObservedState:
    """List every container (paged), then the versions of every non-curated environment (git's,
    and the others to find orphans), `concurrency` requests at a time."""
    containers = {c.name: c for c in workspace.list_environments(ListView.ALL)}
    # Environments git defines but the workspace lacks have no versions to read.
    wanted = sorted(n for n, c in containers.items() if not c.curated and n not in exclude)
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        found = pool.map(lambda n: workspace.list_versions(n, ListView.ALL), wanted)
        environments = {
            name: ObservedEnvironment(name, containers.get(name), tuple(versions))
            for name, versions in zip(wanted, found)
        }
    return ObservedState(containers=containers, environments=environments)



def observe_environment(workspace: Workspace, name: str) -> ObservedEnvironment:
    """Re-read one environment (for the stale-plan check before applying a change to it)."""
    versions = tuple(workspace.list_versions(name, ListView.ALL))
    return ObservedEnvironment(name, workspace.get_environment(name), versions)
