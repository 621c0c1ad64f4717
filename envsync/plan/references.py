"""Job and deployment references against a plan: which versions exist once it is applied, and
which jobs pick up each new version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from envsync.plan.model import Action, Plan
from envsync.spec.references import Kind, Known, Reference
from envsync.workspace import ListView, RemoteVersion, Workspace


def annotate(plan: Plan, references: Sequence[Reference]) -> Plan:
    """Each new version lists the references it affects: `@latest` ones, and pins to it."""
    changes = tuple(
        replace(c, references=_users(c.name, c.version, references))
        if c.action in (Action.CREATE, Action.NEW_VERSION)
        else c
        for c in plan.changes
    )
    return replace(plan, changes=changes)


def _users(name: str, version: str | None, references: Sequence[Reference]) -> tuple[str, ...]:
    return tuple(
        f"{r.where} ({r.text})"
        for r in references
        if r.target.name == name
        and (r.target.kind is Kind.LATEST or (r.target.kind is Kind.VERSION and r.target.version == version))
    )


def workspace_known(plan: Plan, listed: Mapping[str, Sequence[RemoteVersion]]) -> Known:
    """For `plan`: versions the workspace holds (archived ones still exist), plus the versions
    the plan creates. `listed` holds every version of each referenced name."""
    versions = {name: {v.version for v in found} for name, found in listed.items() if found}
    active = {name for name, found in listed.items() if any(not v.archived for v in found)}
    for change in plan.changes:
        if change.action in (Action.CREATE, Action.NEW_VERSION) and change.version is not None:
            versions.setdefault(change.name, set()).add(change.version)
            active.add(change.name)
    return Known(versions={n: frozenset(v) for n, v in versions.items()}, active=frozenset(active))


def read_versions(workspace: Workspace, references: Iterable[Reference]) -> dict[str, list[RemoteVersion]]:
    """Every version (archived too) of each workspace environment the references name."""
    names = {r.target.name for r in references if r.target.kind in (Kind.VERSION, Kind.LATEST)}
    return {name: workspace.list_versions(name, ListView.ALL) for name in sorted(n for n in names if n)}
