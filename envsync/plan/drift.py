"""Drift: how the workspace differs from what git defines and envsync last applied. Pure."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from envsync.plan.diff import changed_fields
from envsync.plan.model import ObservedEnvironment, ObservedState
from envsync.plan.planner import PlanOptions, desired_tags, remote_view
from envsync.spec.load import EnvironmentSpec
from envsync.workspace import FINGERPRINT_PROPERTY, RemoteVersion


class DriftKind(str, enum.Enum):
    EDITED = "edited"  # description or tags changed outside git
    UNMANAGED_VERSION = "unmanaged_version"  # a version created outside envsync
    ARCHIVED = "archived"  # a version git defines was archived
    MISSING = "missing"  # git's version is not in the workspace: deleted, or never applied
    ORPHAN = "orphan"  # envsync created it; git no longer defines it


@dataclass(frozen=True)
class DriftItem:
    kind: DriftKind
    name: str
    version: str | None
    message: str
    git: Any = None  # what git says
    workspace: Any = None  # what the workspace has


@dataclass(frozen=True)
class DriftReport:
    target: str
    items: tuple[DriftItem, ...]

    @property
    def drifted(self) -> bool:
        return bool(self.items)


def detect(specs: Sequence[EnvironmentSpec], observed: ObservedState, options: PlanOptions) -> DriftReport:
    items: list[DriftItem] = []
    for spec in specs:
        if spec.name not in options.exclude:
            items += _spec_drift(spec, observed.environment(spec.name), options)
    defined = {s.name for s in specs}
    for name, env in sorted(observed.environments.items()):
        if name not in defined and name not in options.exclude:
            items += (_orphan(v) for v in env.active if v.managed and not v.curated)
    return DriftReport(options.target, tuple(items))


def _spec_drift(spec: EnvironmentSpec, env: ObservedEnvironment, options: PlanOptions) -> Iterator[DriftItem]:
    if not env.versions:
        return
    current = _git_version(spec, env)
    if current is None:
        yield DriftItem(
            DriftKind.MISSING,
            spec.name,
            spec.version,
            "git's content is in no version of the workspace (deleted, or not applied yet)",
            git=spec.fingerprint,
        )
    else:
        yield from _version_drift(spec, current, options)
    if any(v.managed for v in env.versions):
        yield from (
            DriftItem(
                DriftKind.UNMANAGED_VERSION,
                spec.name,
                v.version,
                "created outside envsync",
                workspace=remote_view(v),
            )
            for v in env.active
            if not v.managed
        )


def _git_version(spec: EnvironmentSpec, env: ObservedEnvironment) -> RemoteVersion | None:
    """The version holding git's content: the explicit one, else the newest with it."""
    if spec.version is not None:
        found = env.get(spec.version)
        return found if found and spec.matches(found.body.content()) else None
    managed = [v for v in env.versions if v.body.properties.get(FINGERPRINT_PROPERTY) == spec.fingerprint]
    same = managed or [v for v in env.versions if spec.matches(v.body.content())]
    return same[0] if same else None


def _version_drift(
    spec: EnvironmentSpec, version: RemoteVersion, options: PlanOptions
) -> Iterator[DriftItem]:
    if version.archived:
        yield DriftItem(DriftKind.ARCHIVED, spec.name, version.version, "archived outside git")
    git = {"description": spec.description or "", "tags": desired_tags(spec.tags, version.body.tags, options)}
    have = {"description": version.body.description or "", "tags": dict(sorted(version.body.tags.items()))}
    fields = changed_fields(have, git)
    if fields:
        yield DriftItem(
            DriftKind.EDITED,
            spec.name,
            version.version,
            f"{', '.join(fields)} edited outside git",
            git=git,
            workspace=have,
        )


def _orphan(version: RemoteVersion) -> DriftItem:
    return DriftItem(
        DriftKind.ORPHAN,
        version.name,
        version.version,
        "created by envsync; no YAML in git defines it any more",
        workspace=remote_view(version),
    )


def summary(report: DriftReport) -> str:
    if not report.drifted:
        return f"No drift: {report.target} matches git."
    count = len(report.items)
    return f"Drift: {count} difference{'s' * (count != 1)} between git and {report.target}."


def text(report: DriftReport) -> str:
    lines = [f"Target: {report.target}", ""]
    for item in report.items:
        lines.append(f"! {item.name}:{item.version or '-'}  ({item.kind.value}) {item.message}")
        if item.git is not None:
            lines.append(f"    git:       {json.dumps(item.git, sort_keys=True)}")
        if item.workspace is not None:
            lines.append(f"    workspace: {json.dumps(item.workspace, sort_keys=True)}")
    if report.items:
        lines.append("")
    return "\n".join([*lines, summary(report)]) + "\n"


def markdown(report: DriftReport) -> str:
    rows = [f"| `{i.name}` | {i.version or '–'} | {i.kind.value} | {i.message} |" for i in report.items]
    table = "\n| environment | version | kind | what |\n|---|---|---|---|\n" + "\n".join(rows) if rows else ""
    return f"### envsync drift for `{report.target}`\n\n**{summary(report)}**\n{table}\n"


def to_json(report: DriftReport) -> str:
    doc = {
        "format_version": 1,
        "target": report.target,
        "drifted": report.drifted,
        "items": [{**asdict(i), "kind": i.kind.value} for i in report.items],
    }
    return json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n"
