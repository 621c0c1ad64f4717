"""Execute a Plan against a workspace: idempotent, safe to re-run after a crash or a failure.

A saved (or confirmed) plan's changes re-read their environment first. A version already
holding the planned content counts as done (a re-run, or another apply racing this one); one
holding other content is a conflict and is never overwritten; a change is stale when what it
rests on moved since the plan (its own version, or for a new auto-numbered version the latest
one), not when another version of the environment did: the changes of one apply never make
each other stale.

A plan this run made moments ago, applied without asking (`ApplyOptions.fresh`), is applied
optimistically: a new version is one PUT, the service's immutability answering any race (409:
read the version, then already done or a conflict), an update one read-modify-write, and the
PUT's own answer is what is checked. Last-applied records come after every version write
(`apply.records`), so under ARM's write limit the versions go first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from envsync.apply.bodies import version_body
from envsync.apply.checks import Created, answered, mutable_matches, settled, stale, verified
from envsync.apply.records import Records
from envsync.apply.result import ApplyResult, ChangeResult, Outcome
from envsync.errors import ConflictError, EnvsyncError
from envsync.plan import last_applied
from envsync.plan.model import Action, Change, ObservedEnvironment, Plan
from envsync.plan.observe import observe_environment
from envsync.spec.load import EnvironmentSpec
from envsync.workspace import FINGERPRINT_PROPERTY, RemoteVersion, VersionBody, Workspace


@dataclass(frozen=True)
class ApplyOptions:
    prune: bool = False
    protected: frozenset[str] = frozenset()
    concurrency: int = 4
    ignore_tags: frozenset[str] = frozenset()
    # Provenance properties (source, commit) for a spec, set on the versions envsync creates.
    provenance: Callable[[EnvironmentSpec], Mapping[str, str]] = field(default=lambda s: {})
    # The plan was made by this run moments ago and nobody was asked to confirm it: no re-read
    # before writing (what it observed is as fresh as a re-read would be), and records written
    # from the containers it listed.
    fresh: bool = False


def apply(
    plan: Plan,
    workspace: Workspace,
    specs: Sequence[EnvironmentSpec],
    options: ApplyOptions,
    on_result: Callable[[ChangeResult], None] = lambda r: None,
) -> ApplyResult:
    """Apply every change of `plan`; `specs` are git's environments as loaded now."""
    if plan.errors:
        names = ", ".join(c.name for c in plan.errors)
        raise EnvsyncError(f"the plan has errors ({names}); fix them and plan again")
    if plan.policy_errors:
        first = plan.policy_errors[0]
        raise EnvsyncError(
            f"the plan breaks target {plan.target}'s policy ({len(plan.policy_errors)} error(s), first "
            f"{first.rule} at {first.path}:{first.line}); fix them, or suppress with a reason, and plan again"
        )
    # One name may have several explicit versions in git: a change is matched by its content.
    by_content: dict[tuple[str, str | None], EnvironmentSpec] = {(s.name, s.fingerprint): s for s in specs}
    created = Created()

    def run(change: Change) -> ChangeResult:
        result = _apply_one(change, workspace, by_content, options, created)
        if change.action is not Action.NOOP:  # a record-only change is reported with its record
            on_result(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, options.concurrency)) as pool:
        results = list(pool.map(run, plan.pending))
        book = Records(workspace, by_content, options.ignore_tags, plan.containers if options.fresh else {})
        results, deferred = book.write(results, pool, on_result)
    return ApplyResult(tuple(results), records_deferred=deferred)


def _apply_one(
    change: Change,
    workspace: Workspace,
    specs: Mapping[tuple[str, str | None], EnvironmentSpec],
    options: ApplyOptions,
    created: Created,
) -> ChangeResult:
    try:
        if change.action is Action.ORPHAN:
            return _archive(change, workspace, options, created)
        spec = specs.get((change.name, change.fingerprint))
        if spec is None:
            return ChangeResult(change, Outcome.STALE, "its YAML changed since the plan was made; plan again")
        if change.action is Action.NOOP:  # only its last-applied record is missing
            return ChangeResult(change, Outcome.ALREADY)
        if change.action is Action.UPDATE:
            return (
                _update_at_once(change, workspace) if options.fresh else _update(change, workspace, created)
            )
        if change.action is Action.RESTORE:
            return _restore(change, workspace, created)
        if options.fresh:
            return _create_at_once(change, spec, workspace, options, created)
        return _create(change, spec, workspace, options, created)
    except EnvsyncError as e:  # a workspace refusal, an unreadable build context
        return ChangeResult(change, Outcome.FAILED, str(e))


def _create(
    change: Change, spec: EnvironmentSpec, workspace: Workspace, options: ApplyOptions, created: Created
) -> ChangeResult:
    assert change.version is not None
    env = observe_environment(workspace, change.name)
    done = settled(change, env.get(change.version), spec)
    if done:
        return done

    def holds_it(found: RemoteVersion | None) -> bool:
        return found is not None and spec.matches(found.body.content())

    others = created.others(env, change.version)
    moved = stale(change, others, workspace, holds_it, auto_new=spec.version is None)
    if moved:
        return moved
    try:
        # A registry refuses the upload itself (409) once the version exists: the same race.
        workspace.create_version(change.name, change.version, _body(change, spec, workspace, options))
    except ConflictError:  # another apply won the race to this version number
        return settled(change, workspace.get_version(change.name, change.version), spec) or (
            ChangeResult(change, Outcome.CONFLICT, f"version {change.version} exists with other content")
        )
    created.add(change.name, change.version)
    return verified(change, workspace, Outcome.DONE)


def _create_at_once(
    change: Change, spec: EnvironmentSpec, workspace: Workspace, options: ApplyOptions, created: Created
) -> ChangeResult:
    """One PUT: the version is immutable, so the service refuses other content (409), and the
    answer to the PUT is the version as stored."""
    assert change.version is not None
    try:
        got = workspace.create_version(change.name, change.version, _body(change, spec, workspace, options))
    except ConflictError:  # there already: the same content (done) or not (never overwritten)
        return settled(change, workspace.get_version(change.name, change.version), spec) or (
            ChangeResult(change, Outcome.CONFLICT, f"version {change.version} exists with other content")
        )
    created.add(change.name, change.version)
    return answered(change, got, Outcome.DONE)


def _update_at_once(change: Change, workspace: Workspace) -> ChangeResult:
    """Read-modify-write of the version's description and tags (the read keeps what envsync
    does not model); the PUT's answer is checked."""
    assert change.version is not None
    assert change.after is not None
    description, tags = change.after["description"] or None, change.after["tags"]
    got = workspace.update_version(change.name, change.version, description=description, tags=tags)
    return answered(change, got, Outcome.DONE)


def _body(change: Change, spec: EnvironmentSpec, workspace: Workspace, options: ApplyOptions) -> VersionBody:
    context_uri = None
    if spec.build is not None and spec.build.digest is not None:
        context_uri = workspace.upload_context(
            Path(spec.build.path), spec.build.digest, name=change.name, version=change.version or ""
        )
    properties = {**options.provenance(spec), FINGERPRINT_PROPERTY: spec.fingerprint}
    body = version_body(spec, context_uri=context_uri, properties=properties)
    tags = (change.after or {}).get("tags")
    return body.with_tags(tags) if tags is not None else body


def _update(change: Change, workspace: Workspace, created: Created) -> ChangeResult:
    assert change.version is not None
    assert change.after is not None
    env = created.others(observe_environment(workspace, change.name), change.version)
    existing = env.get(change.version)
    if existing is not None and mutable_matches(existing, change):
        return ChangeResult(change, Outcome.ALREADY)
    moved = stale(change, env, workspace, lambda v: v is not None and mutable_matches(v, change))
    if moved:
        return moved
    workspace.update_version(
        change.name,
        change.version,
        description=change.after["description"] or None,
        tags=change.after["tags"],
    )
    return verified(change, workspace, Outcome.DONE)


def _restore(change: Change, workspace: Workspace, created: Created) -> ChangeResult:
    """Un-archive as `az ml environment restore` does (GET, then a PUT of the version's whole
    body with isArchived false: fields envsync does not model survive), then set git's
    description and tags when they differ."""
    assert change.version is not None
    assert change.after is not None
    env = observe_environment(workspace, change.name)
    existing = env.get(change.version)
    whole = env.container is not None and env.container.archived
    if existing is not None and not existing.archived and not whole and mutable_matches(existing, change):
        return ChangeResult(change, Outcome.ALREADY)
    others = created.others(env, change.version)
    moved = stale(change, others, workspace, lambda v: v is not None and _restored(v, change))
    if moved:
        return moved
    if existing is None:  # listed by the plan, gone now: the digest cannot have matched
        return ChangeResult(change, Outcome.STALE, "the version is gone from the workspace; plan again")
    if whole:
        _restore_environment(workspace, env, keep=change.version)
    if existing.archived:
        workspace.set_archived(change.name, change.version, False)
    if not mutable_matches(existing, change):
        description, tags = change.after["description"] or None, change.after["tags"]
        workspace.update_version(change.name, change.version, description=description, tags=tags)
    got = workspace.get_version(change.name, change.version)
    if got is None or not _restored(got, change) or got.body.content() != existing.body.content():
        return ChangeResult(change, Outcome.FAILED, "read back still archived or with other content")
    return ChangeResult(change, Outcome.DONE)


def _restore_environment(workspace: Workspace, env: ObservedEnvironment, *, keep: str) -> None:
    """Restore an archived environment (a container restore restores every version), then
    archive again the versions git does not point at: apply only restores what git owns."""
    workspace.set_archived(env.name, None, False)
    for version in env.versions:
        if version.archived and version.version != keep:
            workspace.set_archived(env.name, version.version, True)


def _restored(version: RemoteVersion, change: Change) -> bool:
    return not version.archived and mutable_matches(version, change)


def _archive(change: Change, workspace: Workspace, options: ApplyOptions, created: Created) -> ChangeResult:
    if change.used_by:  # archiving it would break that deployment's next scale-out or redeploy
        return ChangeResult(change, Outcome.SKIPPED, f"kept: used by {', '.join(change.used_by)}")
    if not options.prune:
        return ChangeResult(change, Outcome.SKIPPED, "orphan kept (archive it with --prune)")
    if change.name in options.protected:
        return ChangeResult(change, Outcome.SKIPPED, "protected in envsync.yaml: never archived")
    assert change.version is not None
    env = created.others(observe_environment(workspace, change.name), change.version)
    existing = env.get(change.version)
    if existing is None or existing.archived:
        return ChangeResult(change, Outcome.ALREADY)
    moved = stale(change, env, workspace, lambda v: v is None or v.archived)
    if moved:
        return moved
    workspace.set_archived(change.name, change.version, True)
    _retire_record(workspace, change.name, change.version)
    return ChangeResult(change, Outcome.DONE)


def _retire_record(workspace: Workspace, name: str, version: str) -> None:
    """A record naming a version just archived would let a fast plan call that environment
    unchanged when its YAML comes back (a `git revert`): mark it archived, so the next plan
    reads the versions and restores it."""
    container = workspace.get_environment(name)
    record = last_applied.read(container) if container is not None else None
    if record is not None and record.version == version:
        workspace.tag_environment(
            name, last_applied.TAG, last_applied.archived(version, record.adopted).encode()
        )
