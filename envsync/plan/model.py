"""The values a plan is made of: observed state in, actions and changes out."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from envsync.content.fingerprint import canonical_json
from envsync.plan.selection import EVERYTHING, NameFilter
from envsync.spec.problems import Problem, Severity, Suppressed
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


def basis_digest(env: ObservedEnvironment, version: str | None, *, auto_new: bool = False) -> str:
    """A digest of what one change rests on, to refuse it when that moved (a stale plan).

    A change rests on its own version only (its content, description, tags, archived flag, or
    its absence), except a new auto-numbered version (`auto_new`), which rests on the latest
    active version it was compared with. Other versions of the same environment never count:
    an earlier change of the same apply, or a hand-made edit elsewhere, leaves it valid."""
    if auto_new:
        latest = env.active[0] if env.active else None
        doc: object = {"latest": [latest.version, canonical_json(latest.body.content())] if latest else None}
    else:
        found = env.get(version) if version is not None else None
        doc = {"version": version, "state": _version_state(found) if found else None}
    return _sha256(json.dumps(doc, default=str, sort_keys=True))


@lru_cache(maxsize=256)
def _sha256(text: str) -> str:  # a first plan's changes mostly rest on the same absence
    return hashlib.sha256(text.encode()).hexdigest()


def _version_state(version: RemoteVersion) -> list[object]:
    body = version.body
    return [canonical_json(body.content()), body.description or "", sorted(body.tags.items()), body.archived]


@dataclass(frozen=True)
class ContextFiles:
    """Which files of a build context a change adds, removes and modifies (paths relative to
    the context, sorted), against `basis`; or why they cannot be known (`unknown`)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    basis: str = ""  # what the old files were read from, e.g. "commit 0123abcd4567"
    unknown: str = ""  # why the old files cannot be listed; the lists are then empty

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ContextFiles:
        lists = {k: tuple(doc.get(k, ())) for k in ("added", "removed", "modified")}
        return cls(**lists, basis=doc.get("basis", ""), unknown=doc.get("unknown", ""))


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
    # Live deployments running this version ("online deployment blue of endpoint e"): an
    # orphan holding one is kept, never archived.
    used_by: tuple[str, ...] = ()
    # Set on an orphan that is its environment's latest active version when prune archives it:
    # the version @latest resolves to afterwards ("": none is left); `references` follow it.
    latest_after: str | None = None
    # A no-op whose container lacks an up-to-date last-applied record: apply writes it, so the
    # next plan can skip reading this environment's versions.
    record_stale: bool = False
    context_files: ContextFiles | None = None  # for a changed build context: which files
    adopted: tuple[str, ...] = ()  # what the record apply writes adopts (`plan.ownership`)


@dataclass(frozen=True)
class Plan:
    target: str
    changes: tuple[Change, ...]
    commit: str | None = None
    created: str | None = None
    # What the target's policy found in the planned environments (and the jobs that use them),
    # and what inline comments suppressed. Errors among `problems` block apply.
    problems: tuple[Problem, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()
    selection: NameFilter = EVERYTHING  # partial: only the environments --name/--exclude selected
    # The containers as the plan listed them, for an apply in the same run (never saved).
    containers: Mapping[str, Container] = field(default_factory=dict, compare=False, repr=False)

    @property
    def errors(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is Action.ERROR)

    @property
    def pending(self) -> tuple[Change, ...]:
        """The changes apply acts on: all but the no-ops whose last-applied record is current."""
        return tuple(c for c in self.changes if c.action is not Action.NOOP or c.record_stale)

    @property
    def policy_errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def records_to_write(self) -> int:
        return sum(1 for c in self.changes if c.record_stale)

    @property
    def has_changes(self) -> bool:
        return any(c.action not in (Action.NOOP, Action.ERROR) for c in self.changes)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)
