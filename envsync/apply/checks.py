"""What the applier checks before and after each write: is the change already done, did what
it rests on move since the plan (stale), and does the workspace hold what was planned."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from envsync.apply.result import ChangeResult, Outcome
from envsync.content.fingerprint import fingerprint
from envsync.plan.model import Change, ObservedEnvironment, basis_digest
from envsync.spec.load import EnvironmentSpec
from envsync.workspace import RemoteVersion, Workspace


class Created:
    """The versions this apply created, which never make its other changes stale."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: set[tuple[str, str]] = set()

    def add(self, name: str, version: str) -> None:
        with self._lock:
            self._versions.add((name, version))

    def others(self, env: ObservedEnvironment, keep: str | None) -> ObservedEnvironment:
        """`env` as if this apply had created none of its versions but `keep`."""
        with self._lock:
            mine = {v for n, v in self._versions if n == env.name and v != keep}
        if not mine:
            return env
        return replace(env, versions=tuple(v for v in env.versions if v.version not in mine))


def settled(change: Change, existing: RemoteVersion | None, spec: EnvironmentSpec) -> ChangeResult | None:
    """The outcome when the version already exists, else None."""
    if existing is None:
        return None
    if not spec.matches(existing.body.content()):
        return ChangeResult(
            change,
            Outcome.CONFLICT,
            f"version {change.version} already exists with other content; never overwritten (plan again)",
        )
    return ChangeResult(change, Outcome.ALREADY)


def stale(
    change: Change,
    env: ObservedEnvironment,
    workspace: Workspace,
    done: Callable[[RemoteVersion | None], bool],
    *,
    auto_new: bool = False,
) -> ChangeResult | None:
    """A refusal when what the change rests on (`basis_digest` of `env`, as re-read now) moved
    since the plan, else None. A move that already holds this change's result (another apply
    got there first) counts as done."""
    if basis_digest(env, change.version, auto_new=auto_new) == change.observed_digest:
        return None
    # Read the version itself: the environment may have moved while it was being listed.
    if change.version is not None and done(workspace.get_version(change.name, change.version)):
        return ChangeResult(change, Outcome.ALREADY)
    return ChangeResult(change, Outcome.STALE, _moved(change, auto_new))


def _moved(change: Change, auto_new: bool) -> str:
    if auto_new:
        return "the environment's latest version changed in the workspace since the plan; plan again"
    return f"version {change.version} changed in the workspace since the plan; plan again"


def verified(change: Change, workspace: Workspace, outcome: Outcome) -> ChangeResult:
    """Read the version back: what the workspace holds must be what was planned."""
    assert change.version is not None
    return answered(change, workspace.get_version(change.name, change.version), outcome)


def answered(change: Change, got: RemoteVersion | None, outcome: Outcome) -> ChangeResult:
    """What the workspace holds (read back, or the PUT's own answer) must be what was planned."""
    if got is None:
        return ChangeResult(change, Outcome.FAILED, "not found when read back after writing")
    if change.fingerprint and fingerprint(got.body.content()) != change.fingerprint:
        return ChangeResult(change, Outcome.FAILED, "read back with different content than planned")
    if not mutable_matches(got, change):
        return ChangeResult(change, Outcome.FAILED, "read back with different description or tags")
    return ChangeResult(change, outcome)


def mutable_matches(version: RemoteVersion, change: Change) -> bool:
    after = change.after or {}
    return (version.body.description or "") == after.get("description", "") and dict(
        version.body.tags
    ) == dict(after.get("tags", {}))
