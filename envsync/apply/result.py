"""What applying each change came to, as values the CLI renders once."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from envsync.plan.model import Action, Change
from envsync.text import escape


class Outcome(str, enum.Enum):
    DONE = "done"  # applied now
    ALREADY = "already"  # the workspace already had it (a re-run, or a concurrent apply)
    SKIPPED = "skipped"  # nothing to do (no-op, or an orphan without --prune)
    STALE = "stale"  # the workspace moved since the plan: refused, nothing applied
    CONFLICT = "conflict"  # the version exists with other content: never overwritten
    FAILED = "failed"


FAILURES = (Outcome.STALE, Outcome.CONFLICT, Outcome.FAILED)


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    outcome: Outcome
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome in FAILURES

    def line(self) -> str:
        ref = f"{self.change.name}:{self.change.version}"
        verb = _VERBS.get((self.change.action, self.outcome), self.outcome.value)
        return escape.terminal(f"{ref}: {verb}" + (f": {self.message}" if self.message else ""))


_VERBS = {
    (Action.CREATE, Outcome.DONE): "created",
    (Action.NEW_VERSION, Outcome.DONE): "new version created",
    (Action.UPDATE, Outcome.DONE): "updated",
    (Action.ORPHAN, Outcome.DONE): "archived",
    (Action.RESTORE, Outcome.DONE): "restored",
    (Action.RESTORE, Outcome.ALREADY): "already restored",
    (Action.CREATE, Outcome.ALREADY): "already created",
    (Action.NEW_VERSION, Outcome.ALREADY): "already created",
    (Action.UPDATE, Outcome.ALREADY): "already up to date",
    (Action.ORPHAN, Outcome.ALREADY): "already archived",
    (Action.NOOP, Outcome.ALREADY): "unchanged; last-applied record written",
}


@dataclass(frozen=True)
class ApplyResult:
    results: tuple[ChangeResult, ...]
    # Last-applied records left unwritten so as not to wait for ARM's write bucket: the next
    # plan reads those environments' versions, the next apply writes them.
    records_deferred: int = 0

    @property
    def failed(self) -> tuple[ChangeResult, ...]:
        return tuple(r for r in self.results if r.failed)
