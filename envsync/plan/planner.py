"""desired × observed → Plan. Pure: no clock, no network, no files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from envsync.plan import last_applied, ownership
from envsync.plan.diff import changed_fields
from envsync.plan.model import Action, Change, ObservedEnvironment, ObservedState, Plan, basis_digest
from envsync.plan.selection import EVERYTHING, NameFilter
from envsync.plan.views import relative, remote_view, spec_view
from envsync.spec.load import EnvironmentSpec
from envsync.workspace import SOURCE_PROPERTY, RemoteVersion


@dataclass(frozen=True)
class PlanOptions:
    target: str = "local"
    root: Path = Path(".")  # sources are shown relative to it
    ignore_tags: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()
    select: NameFilter = EVERYTHING  # --name / --exclude

    def skips(self, name: str) -> bool:
        """Left out of this plan: excluded in envsync.yaml, or not selected."""
        return name in self.exclude or (self.select.partial and not self.select.matches(name))


def plan(desired: Sequence[EnvironmentSpec], observed: ObservedState, options: PlanOptions) -> Plan:
    specs = [s for s in desired if not options.skips(s.name)]
    changes = [
        _unchanged(s, observed, options)
        if s.name in observed.unchanged
        else _change_for(s, observed.environment(s.name), options)
        for s in specs
    ]
    changes += _orphans({s.name for s in desired}, observed, options)
    changes.sort(key=lambda c: (c.name.lower(), c.name, c.version or ""))
    return Plan(target=options.target, changes=tuple(changes), selection=options.select)


def next_version(env: ObservedEnvironment) -> str:
    """The version Azure ML would assign next: the container's nextVersion, else max + 1."""
    # Non-numeric versions ("22.02-py3") are legal, but the service never increments them.
    numeric = max((int(v.version) for v in env.versions if v.version.isdigit()), default=0)
    hinted = env.container.next_version if env.container else None
    if hinted and hinted.isdigit() and int(hinted) > numeric:
        return hinted
    return str(numeric + 1)


def _change_for(spec: EnvironmentSpec, env: ObservedEnvironment, options: PlanOptions) -> Change:
    base = partial(
        Change,
        name=spec.name,
        observed_digest="",  # set below, once the change's version is known
        source=relative(spec.source, options.root),
        fingerprint=spec.fingerprint,
        after=spec_view(spec, options.root),
    )
    if env.container is None and not env.versions:  # most of a first plan: made in one go
        version = spec.version or "1"
        digest = basis_digest(env, version, auto_new=spec.version is None)
        return base(action=Action.CREATE, version=version, observed_digest=digest)
    if spec.version is not None:
        change = _explicit_version(spec, env, options, base)
    else:
        change = _auto_version(spec, env, options, base)
    return replace(
        change,
        observed_digest=basis_digest(env, change.version, auto_new=auto_numbered(spec, change)),
        record_stale=_record_stale(change, spec, env, options),
        adopted=ownership.to_adopt(env),
    )


def auto_numbered(spec: EnvironmentSpec, change: Change) -> bool:
    """Whether `change` makes a version numbered by the workspace (the YAML names none)."""
    return spec.version is None and change.action in (Action.CREATE, Action.NEW_VERSION)


def _record_stale(
    change: Change, spec: EnvironmentSpec, env: ObservedEnvironment, options: PlanOptions
) -> bool:
    container = env.container
    if change.action is not Action.NOOP or container is None or change.version is None:
        return False
    if change.version != container.latest_version:  # the fast path only trusts latest versions
        return False
    expected = last_applied.record_for(spec, change.version, options.ignore_tags, ownership.to_adopt(env))
    found = last_applied.read(container)
    return found != expected or found.adopted != expected.adopted


def _unchanged(spec: EnvironmentSpec, observed: ObservedState, options: PlanOptions) -> Change:
    container = observed.containers[spec.name]
    return Change(
        name=spec.name,
        action=Action.NOOP,
        version=container.latest_version,
        observed_digest=basis_digest(observed.environment(spec.name), container.latest_version),
        source=relative(spec.source, options.root),
        fingerprint=spec.fingerprint,
        after=spec_view(spec, options.root),
        base_version=container.latest_version,
        message="unchanged since the last apply (container record; --refresh reads versions)",
    )


def _explicit_version(
    spec: EnvironmentSpec, env: ObservedEnvironment, options: PlanOptions, base: partial[Change]
) -> Change:
    version = str(spec.version)
    existing = env.get(version)
    if existing is None:
        return base(action=Action.NEW_VERSION, version=version)
    before = remote_view(existing)
    if not _same_content(spec, existing):
        fields = ", ".join(changed_fields(_immutable(before), _immutable(base.keywords["after"])))
        return base(
            action=Action.ERROR,
            version=version,
            before=before,
            base_version=version,
            diff=changed_fields(before, base.keywords["after"]),
            message=(
                f"version {version} already exists with different {fields}; versions are "
                f"immutable in Azure ML, so bump `version` in {base.keywords['source']}"
            ),
        )
    if existing.archived:
        return _restore(spec, existing, env, options, base)
    return _mutable_change(spec, existing, options, base)


def _auto_version(
    spec: EnvironmentSpec, env: ObservedEnvironment, options: PlanOptions, base: partial[Change]
) -> Change:
    latest = env.active[0] if env.active else None
    if latest is not None and _same_content(spec, latest):
        return _mutable_change(spec, latest, options, base)
    archived = restorable(spec, env)
    if archived is not None:
        return _restore(spec, archived, env, options, base)
    older = next((v for v in env.versions if _same_content(spec, v)), None)
    before = remote_view(latest) if latest else None
    return base(
        action=Action.NEW_VERSION,
        version=next_version(env),
        before=before,
        base_version=latest.version if latest else None,
        diff=changed_fields(before, base.keywords["after"]) if before else (),
        message=(
            f"same content as version {older.version}, which is not the latest active version"
            if older
            else None
        ),
    )


def pointed_version(spec: EnvironmentSpec, env: ObservedEnvironment) -> RemoteVersion | None:
    """The version git points at: its explicit `version` (whatever it holds), else the latest
    active version when it holds git's content, else the archived one apply would restore.
    None: apply makes one (a new version, or the explicit version created)."""
    if spec.version is not None:
        return env.get(str(spec.version))
    latest = env.active[0] if env.active else None
    if latest is not None and _same_content(spec, latest):
        return latest
    return restorable(spec, env)


def restorable(spec: EnvironmentSpec, env: ObservedEnvironment) -> RemoteVersion | None:
    """The archived version an unversioned YAML would reuse: the newest holding git's content,
    when it is newer than every active version (restored, it is the latest again)."""
    for version in env.versions:  # newest first
        if not version.archived:
            return None
        if _same_content(spec, version):
            return version
    return None


def _restore(
    spec: EnvironmentSpec,
    existing: RemoteVersion,
    env: ObservedEnvironment,
    options: PlanOptions,
    base: partial[Change],
) -> Change:
    """Un-archive the version git points at, instead of a duplicate version or a silent no-op:
    who archived it is unknown (a hand, or a `--prune` before its YAML came back)."""
    change = _mutable_change(spec, existing, options, base)
    whole = env.container is not None and env.container.archived
    note = "archived while git defines it"
    if whole:
        note += "; the whole environment is archived: it is restored, its other versions stay archived"
    return replace(change, action=Action.RESTORE, diff=("archived", *change.diff), message=note)


def _mutable_change(
    spec: EnvironmentSpec, existing: RemoteVersion, options: PlanOptions, base: partial[Change]
) -> Change:
    before = remote_view(existing)
    after = dict(base.keywords["after"], tags=desired_tags(spec.tags, existing.body.tags, options))
    diff = changed_fields(_mutable(before), _mutable(after))
    return base(
        action=Action.UPDATE if diff else Action.NOOP,
        version=existing.version,
        before=after if before == after else before,  # one copy for the no-ops of a large plan
        after=after,
        diff=diff,
        base_version=existing.version,
    )


def desired_tags(
    wanted: Mapping[str, str], current: Mapping[str, str], options: PlanOptions
) -> dict[str, str]:
    """Git's tags, plus the ignored tags other systems keep on the version."""
    kept = {k: v for k, v in current.items() if k in options.ignore_tags}
    return dict(sorted({**kept, **wanted}.items()))


def _orphans(defined: set[str], observed: ObservedState, options: PlanOptions) -> list[Change]:
    orphans = []
    for name, env in observed.environments.items():
        if name in defined or options.skips(name):
            continue
        adopted = ownership.adopted(env)
        for version in env.active:
            if ownership.owned(version, adopted) and not version.curated:
                orphans.append(
                    Change(
                        name=name,
                        action=Action.ORPHAN,
                        version=version.version,
                        observed_digest=basis_digest(env, version.version),
                        before=remote_view(version),
                        source=version.body.properties.get(SOURCE_PROPERTY),
                        message="created by envsync; no YAML in git defines it any more",
                    )
                )
    return orphans


def _same_content(spec: EnvironmentSpec, version: RemoteVersion) -> bool:
    return spec.matches(version.body.content())


def _immutable(view: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in ("description", "tags")}


def _mutable(view: Mapping[str, Any]) -> dict[str, Any]:
    return {"description": view["description"], "tags": view["tags"]}
