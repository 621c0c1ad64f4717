"""Drift: how the workspace differs from what git defines and envsync last applied. Pure.

Each finding is healable (`apply --refresh` repairs it: it is a change the refreshed plan
makes) or report-only (apply never touches what git does not own, and cannot rewrite an
immutable version), and then says why and what to do instead.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from envsync.plan import last_applied, ownership
from envsync.plan.diff import changed_fields, tag_changes
from envsync.plan.model import ObservedEnvironment, ObservedState
from envsync.plan.planner import PlanOptions, desired_tags, pointed_version
from envsync.plan.selection import EVERYTHING, NameFilter
from envsync.plan.views import remote_view
from envsync.spec.load import EnvironmentSpec
from envsync.workspace import RemoteVersion


class DriftKind(str, enum.Enum):
    EDITED = "edited"  # description or tags differ from git's
    ARCHIVED = "archived"  # the version git points at is archived
    MISSING = "missing"  # git's content is not where git points: apply makes that version
    RECORD = "record"  # the container's last-applied record is absent, unreadable or wrong
    UNMANAGED_VERSION = "unmanaged_version"  # a version created outside envsync
    CONFLICT = "conflict"  # git's explicit version holds other (immutable) content
    ORPHAN = "orphan"  # envsync created it; git no longer defines it

    @property
    def healable(self) -> bool:
        """Whether `apply --refresh` repairs findings of this kind."""
        return self in _HEALABLE


_HEALABLE = frozenset({DriftKind.EDITED, DriftKind.ARCHIVED, DriftKind.MISSING, DriftKind.RECORD})


@dataclass(frozen=True)
class DriftItem:
    kind: DriftKind
    name: str
    version: str | None
    message: str  # what is true, and for report-only findings why apply leaves it and what to do
    git: Any = None  # what git says
    workspace: Any = None  # what the workspace has
    values: tuple[tuple[str, Any, Any], ...] = ()  # (field, workspace now, what apply sets)

    @property
    def healable(self) -> bool:
        return self.kind.healable


@dataclass(frozen=True)
class DriftReport:
    target: str
    items: tuple[DriftItem, ...]
    selection: NameFilter = EVERYTHING  # a partial report covers only these names

    @property
    def drifted(self) -> bool:
        return bool(self.items)

    @property
    def healable(self) -> tuple[DriftItem, ...]:
        return tuple(i for i in self.items if i.healable)


def detect(specs: Sequence[EnvironmentSpec], observed: ObservedState, options: PlanOptions) -> DriftReport:
    items: list[DriftItem] = []
    for spec in specs:
        if not options.skips(spec.name):
            items += _spec_drift(spec, observed.environment(spec.name), options)
    defined = {s.name for s in specs}
    for name, env in sorted(observed.environments.items()):
        if name not in defined and not options.skips(name):
            adopted = ownership.adopted(env)
            items += (_orphan(v) for v in env.active if ownership.owned(v, adopted) and not v.curated)
    return DriftReport(options.target, tuple(items), selection=options.select)


def _spec_drift(spec: EnvironmentSpec, env: ObservedEnvironment, options: PlanOptions) -> Iterator[DriftItem]:
    if not env.versions:  # a new environment, not applied yet
        return
    current = pointed_version(spec, env)
    if current is None:
        yield _missing(spec, env)
    elif not spec.matches(current.body.content()):
        yield _conflict(spec, current)
    else:
        yield from _version_drift(spec, env, current, options)
    if ownership.applied(env):  # before envsync's first apply here, nothing is reported
        mine = ownership.adopted(env)
        yield from (
            _unmanaged(spec, v) for v in env.active if not ownership.owned(v, mine) and v is not current
        )


def _missing(spec: EnvironmentSpec, env: ObservedEnvironment) -> DriftItem:
    if spec.version is not None:
        message = (
            f"version {spec.version} is not in the workspace (deleted, or not applied yet): apply creates it"
        )
    elif env.active:
        message = (
            f"the latest active version, {env.active[0].version}, does not hold git's content: "
            "apply makes a new version with it"
        )
    else:
        message = "git's content is in no active version: apply makes a new version with it"
    return DriftItem(DriftKind.MISSING, spec.name, spec.version, message, git=spec.fingerprint)


def _conflict(spec: EnvironmentSpec, version: RemoteVersion) -> DriftItem:
    return DriftItem(
        DriftKind.CONFLICT,
        spec.name,
        version.version,
        f"version {version.version} holds other content than git; versions are immutable in Azure ML, "
        "so apply cannot repair it: bump `version` in git",
        workspace=remote_view(version),
    )


def _version_drift(
    spec: EnvironmentSpec, env: ObservedEnvironment, version: RemoteVersion, options: PlanOptions
) -> Iterator[DriftItem]:
    if version.archived:
        whole = env.container is not None and env.container.archived
        what = "the environment is archived" if whole else "archived"
        yield DriftItem(
            DriftKind.ARCHIVED,
            spec.name,
            version.version,
            f"{what} while git defines it: apply restores it",
            values=(("archived", True, False),),
        )
    git = {"description": spec.description or "", "tags": desired_tags(spec.tags, version.body.tags, options)}
    have = {"description": version.body.description or "", "tags": dict(sorted(version.body.tags.items()))}
    fields = changed_fields(have, git)
    if fields:
        yield DriftItem(
            DriftKind.EDITED,
            spec.name,
            version.version,
            f"{', '.join(fields)} differ{'s' * (len(fields) == 1)} from git: apply sets git's",
            git=git,
            workspace=have,
            values=_mutable_values(have, git),
        )
    if not version.archived:
        yield from _record_drift(spec, env, version, options)


def _mutable_values(have: dict[str, Any], git: dict[str, Any]) -> tuple[tuple[str, Any, Any], ...]:
    values = []
    if have["description"] != git["description"]:
        values.append(("description", have["description"], git["description"]))
    values += [(f"tags.{key}", old, new) for _, key, old, new in tag_changes(have["tags"], git["tags"])]
    return tuple(values)


def _record_drift(
    spec: EnvironmentSpec, env: ObservedEnvironment, version: RemoteVersion, options: PlanOptions
) -> Iterator[DriftItem]:
    """The last-applied record, where apply keeps one: on the container whose latest version is
    git's. A version envsync did not create and never recorded was imported, not drifted."""
    container = env.container
    if container is None or container.latest_version != version.version:
        return
    expected = last_applied.record_for(spec, version.version, options.ignore_tags)
    found, raw = last_applied.read(container), container.tags.get(last_applied.TAG)
    if found == expected or (raw is None and not version.managed):
        return
    state = "wrong" if found is not None else "unreadable" if raw else "missing"
    before = _brief(found) if found is not None else raw
    yield DriftItem(
        DriftKind.RECORD,
        spec.name,
        version.version,
        f"the container's last-applied record is {state}: plans read this environment's versions "
        "until apply writes it",
        values=((f"container tag {last_applied.TAG}", before, _brief(expected)),),
    )


def _brief(record: last_applied.Record) -> dict[str, str]:
    """A record as a finding shows it: digests cut short, enough to tell two records apart."""
    return {"version": record.version, "fingerprint": record.fingerprint[:12], "mutable": record.mutable[:8]}


def _unmanaged(spec: EnvironmentSpec, version: RemoteVersion) -> DriftItem:
    pinned = f"git pins version {spec.version}, and " if spec.version is not None else ""
    return DriftItem(
        DriftKind.UNMANAGED_VERSION,
        spec.name,
        version.version,
        f"created outside envsync; {pinned}apply never archives a version git does not define: "
        "archive it by hand, or define it in git",
        workspace=remote_view(version),
    )


def _orphan(version: RemoteVersion) -> DriftItem:
    return DriftItem(
        DriftKind.ORPHAN,
        version.name,
        version.version,
        "created by envsync; no YAML in git defines it any more: `envsync apply --prune` archives it "
        "(self-heal never prunes), or bring its YAML back",
        workspace=remote_view(version),
    )
