"""What live deployments make of a plan (pure): a version a deployment runs is never archived by
prune (its orphan is kept, naming the deployment), every change lists the deployments on its
version, and when prune takes away an environment's latest active version the plan says where
`@latest` moves and who follows it (deployments pinned to latest here; the repository's
`azureml:NAME@latest` references are added by `plan.references.annotate`).

A deployment pinned to `@latest` runs whatever was latest when it was deployed; it keeps no
version alive, but it follows the move at its next redeploy or scale-out, so it is listed there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from envsync.plan.model import Action, Change, ObservedState, Plan
from envsync.workspace.deployments import Deployment, environment_use

REGISTRY_NOTE = (
    "a registry cannot see the workspace deployments that run its versions: check them before --prune"
)


@dataclass(frozen=True)
class Usage:
    """Live deployments of this workspace by what they run: a version, or an environment's @latest."""

    pinned: Mapping[tuple[str, str], tuple[Deployment, ...]] = field(default_factory=dict)
    latest: Mapping[str, tuple[Deployment, ...]] = field(default_factory=dict)
    # Set when the deployments could not be read (the identity may not list endpoints): then
    # every orphan is kept, as if this unknown deployment ran it.
    unreadable: str = ""

    def of(self, name: str, version: str | None) -> tuple[str, ...]:
        found = self.pinned.get((name, version or ""), ())
        return tuple(d.describe() for d in found)

    def following_latest(self, name: str) -> tuple[str, ...]:
        return tuple(d.describe() for d in self.latest.get(name, ()))

    def of_environment(self, name: str) -> dict[str, tuple[str, ...]]:
        """The deployments on each version of `name` ("@latest" for those pinned to it)."""
        found = {
            v: tuple(d.describe() for d in ds) for (n, v), ds in sorted(self.pinned.items()) if n == name
        }
        return {**found, "@latest": self.following_latest(name)} if name in self.latest else found


def usage_of(deployments: Iterable[Deployment], workspace: str | None = None) -> Usage:
    """Index `deployments` by what they run here (registry and other workspaces' ids are not
    this workspace's versions). `workspace` is this workspace's name, when it has one."""
    pinned: dict[tuple[str, str], list[Deployment]] = {}
    latest: dict[str, list[Deployment]] = {}
    for deployment in deployments:
        use = environment_use(deployment.environment_id, workspace)
        if use is None or not use.here:
            continue
        if use.version is None:
            latest.setdefault(use.name, []).append(deployment)
        else:
            pinned.setdefault((use.name, use.version), []).append(deployment)
    return Usage(
        pinned={k: _ordered(v) for k, v in pinned.items()}, latest={k: _ordered(v) for k, v in latest.items()}
    )


def _ordered(deployments: list[Deployment]) -> tuple[Deployment, ...]:
    return tuple(sorted(deployments, key=Deployment.describe))  # the same on every backend


def with_usage(
    plan: Plan, usage: Usage, observed: ObservedState, *, protected: frozenset[str] = frozenset()
) -> Plan:
    """`plan` with each change's deployments (`used_by`: an orphan holding one is kept), and
    the @latest moves prune would make (orphans not kept nor `protected` are archived)."""
    used = mark_used(plan, usage)
    return replace(used, changes=tuple(latest_moves(used.changes, usage, observed, protected)))


def mark_used(plan: Plan, usage: Usage) -> Plan:
    """Each change with the deployments that run its version (as read now: a saved plan's are
    read again before apply archives anything)."""
    unknown = (usage.unreadable,) if usage.unreadable else ()
    changes = tuple(
        replace(
            c,
            used_by=usage.of(c.name, c.version)
            or (unknown if c.action is Action.ORPHAN else ())
            or c.used_by,
        )
        for c in plan.changes
    )
    return replace(plan, changes=changes)


def unreadable(code: str | None) -> Usage:
    """What is known when listing the endpoints was refused: nothing, so prune keeps all."""
    return Usage(
        unreadable=(
            f"any deployment: they could not be read ({code or 'refused'}); to prune, grant this identity "
            "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/read and batchEndpoints/read"
        )
    )


def latest_moves(
    changes: Sequence[Change], usage: Usage, observed: ObservedState, protected: frozenset[str]
) -> list[Change]:
    """Mark the orphan that is its environment's latest active version, when prune archives it:
    `latest_after` is the version @latest resolves to then ("" for none), and its references
    start with the deployments pinned to that environment's @latest."""
    archived: dict[str, set[str]] = {}
    for c in changes:
        if archivable(c, protected) and c.version is not None:
            archived.setdefault(c.name, set()).add(c.version)
    out = []
    for c in changes:
        active = [v.version for v in observed.environment(c.name).active]
        gone = archived.get(c.name, set())
        if c.version in gone and active and active[0] == c.version:
            after = next((v for v in active if v not in gone), "")
            pins = tuple(d.describe() for d in usage.latest.get(c.name, ()))
            c = replace(c, latest_after=after, references=(*pins, *c.references))
        out.append(c)
    return out


def archivable(change: Change, protected: frozenset[str]) -> bool:
    """Whether `apply --prune` archives this change: an orphan in no deployment, not protected."""
    return change.action is Action.ORPHAN and not change.used_by and change.name not in protected


def registry_noted(plan: Plan) -> Plan:
    """A registry's plan: its orphans say that their users cannot be seen from the registry."""
    changes = tuple(
        replace(c, message=f"{c.message}; {REGISTRY_NOTE}" if c.message else REGISTRY_NOTE)
        if c.action is Action.ORPHAN
        else c
        for c in plan.changes
    )
    return replace(plan, changes=changes)
