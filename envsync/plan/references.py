"""Job and deployment references against a plan: which versions exist once it is applied, and
which jobs pick up each new version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from envsync.plan.model import Action, Change, Plan
from envsync.spec.known import Known, in_registry
from envsync.spec.references import Kind, Reference
from envsync.workspace import ListView, RemoteVersion, Workspace


def annotate(plan: Plan, references: Sequence[Reference], registry: str | None = None) -> Plan:
    """Each new version lists the references it affects: `@latest` ones, and pins to it. For a
    registry's plan those are the `azureml://registries/<registry>/...` references."""
    by_name: dict[str, list[Reference]] = {}
    for r in references:
        if r.target.name is not None:
            by_name.setdefault(r.target.name, []).append(r)
    if not by_name:
        return plan  # 10,000 new versions and no job: nothing to copy
    changes = tuple(
        replace(c, references=_users(c.name, c.version, by_name[c.name], registry))
        if c.action in (Action.CREATE, Action.NEW_VERSION) and c.name in by_name
        else _followers(c, by_name.get(c.name, ()), registry)
        for c in plan.changes
    )
    return replace(plan, changes=changes)


def _followers(change: Change, references: Sequence[Reference], registry: str | None) -> Change:
    """An orphan whose archive moves @latest (`latest_after`) lists the `@latest` references
    that move with it, after the deployments pinned to it."""
    if change.latest_after is None or registry is not None:
        return change
    moving = tuple(r.shown for r in references if r.target.kind is Kind.LATEST)
    return replace(change, references=(*change.references, *moving)) if moving else change


def _users(
    name: str, version: str | None, references: Sequence[Reference], registry: str | None
) -> tuple[str, ...]:
    return tuple(r.shown for r in references if _picks_up(r, name, version, registry))


def _picks_up(ref: Reference, name: str, version: str | None, registry: str | None) -> bool:
    target = ref.target
    if target.name != name:
        return False
    if registry is not None:
        return in_registry(target, registry) and target.version in (None, version)
    return target.kind is Kind.LATEST or (target.kind is Kind.VERSION and target.version == version)


def workspace_known(
    plan: Plan, listed: Mapping[str, Sequence[RemoteVersion]], registry: str | None = None
) -> Known:
    """For `plan`: versions the workspace (or `registry`) holds (archived ones still exist),
    plus the versions the plan creates. `listed` holds every version of each referenced name."""
    versions = {name: {v.version for v in found} for name, found in listed.items() if found}
    active = {name for name, found in listed.items() if any(not v.archived for v in found)}
    for change in plan.changes:
        if change.action in (Action.CREATE, Action.NEW_VERSION) and change.version is not None:
            versions.setdefault(change.name, set()).add(change.version)
            active.add(change.name)
    return Known(
        versions={n: frozenset(v) for n, v in versions.items()}, active=frozenset(active), registry=registry
    )


def read_versions(
    workspace: Workspace, references: Iterable[Reference], registry: str | None = None
) -> dict[str, list[RemoteVersion]]:
    """Every version (archived too) of each environment the references name in the workspace,
    or in `registry` when the workspace is that registry."""
    if registry is not None:
        names = {r.target.name for r in references if in_registry(r.target, registry)}
    else:
        names = {r.target.name for r in references if r.target.kind in (Kind.VERSION, Kind.LATEST)}
    return {name: workspace.list_versions(name, ListView.ALL) for name in sorted(n for n in names if n)}
