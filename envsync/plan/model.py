"""The values a plan is made of: observed state in, actions and changes out."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from envsync.content.fingerprint import canonical_json
from envsync.workspace import Container, RemoteVersion


class Action(str, enum.Enum):
    CREATE = "create"  # a new environment (its first version)
    NEW_VERSION = "new_version"  # immutable content changed
    UPDATE = "update"  # description or tags, in place
    RESTORE = "restore"  # un-archive the version git points at (and set git's description and tags)
    NOOP = "noop"
    ORPHAN = "orphan"  # a version envsync created that git no longer defines
    ERROR = "error"  # cannot be planned: the message says why and what to do

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]


_SYMBOLS = {
    Action.CREATE: "+",
    Action.NEW_VERSION: "+",
    Action.UPDATE: "~",
    Action.RESTORE: "~",
    Action.NOOP: " ",
    Action.ORPHAN: "-",
    Action.ERROR: "!",
}


@dataclass(frozen=True)
class ObservedEnvironment:
    """What a workspace holds for one environment name (versions newest first)."""

    name: str
    container: Container | None = None
    versions: tuple[RemoteVersion, ...] = ()

    @property
    def active(self) -> tuple[RemoteVersion, ...]:
        return tuple(v for v in self.versions if not v.archived)

    def get(self, version: str) -> RemoteVersion | None:
        return next((v for v in self.versions if v.version == version), None)


@dataclass(frozen=True)
class ObservedState:
    """Every container the workspace lists, and the versions of those the plan needs."""

    containers: Mapping[str, Container] = field(default_factory=dict)
    environments: Mapping[str, ObservedEnvironment] = field(default_factory=dict)
    # Environments whose last-applied record matches git: unchanged, their versions not read.
    unchanged: frozenset[str] = frozenset()

    def environment(self, name: str) -> ObservedEnvironment:
        return self.environments.get(name) or ObservedEnvironment(name, self.containers.get(name))


def observed_digest(env: ObservedEnvironment) -> str:
    """A digest of everything about `env` a plan decision rests on, to detect stale plans."""
    state = sorted(
        (
            v.version,
            canonical_json(v.body.content()),
            v.body.description or "",
            sorted(v.body.tags.items()),
            v.archived,
        )
        for v in env.versions
    )
    doc = {"exists": env.container is not None or bool(env.versions), "versions": state}
    return hashlib.sha256(json.dumps(doc, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Change:
    """One planned action on one environment version."""

    name: str
    action: Action
    version: str | None
    observed_digest: str
    source: str | None = None  # repo-relative YAML path
    fingerprint: str | None = None  # of the desired content
    before: Mapping[str, Any] | None = None  # the compared workspace version, as a view
    after: Mapping[str, Any] | None = None  # what git defines, as a view
    diff: tuple[str, ...] = ()  # changed field paths, e.g. "conda", "tags.team"
    base_version: str | None = None  # the workspace version compared against
    message: str | None = None  # an error's reason, or a note
    references: tuple[str, ...] = ()  # jobs/deployments it affects: "path:line (reference)"
    # A no-op whose container lacks an up-to-date last-applied record: apply writes it, so the
    # next plan can skip reading this environment's versions.
    record_stale: bool = False


@dataclass(frozen=True)
class Plan:
    target: str
    changes: tuple[Change, ...]
    commit: str | None = None
    created: str | None = None

    @property
    def errors(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is Action.ERROR)

    @property
    def records_to_write(self) -> int:
        return sum(1 for c in self.changes if c.record_stale)

    @property
    def has_changes(self) -> bool:
        return any(c.action not in (Action.NOOP, Action.ERROR) for c in self.changes)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)
