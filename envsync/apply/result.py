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

    def count(self, action: Action) -> int:
        ok = (Outcome.DONE, Outcome.ALREADY)
        return sum(1 for r in self.results if r.change.action is action and r.outcome in ok)

    def summary(self) -> str:
        new = self.count(Action.NEW_VERSION)
        text = (
            f"Apply complete: {self.count(Action.CREATE)} created, "
            f"{new} new version{'s' * (new != 1)}, {self.count(Action.UPDATE)} updated, "
        )
        restored, archived = self.count(Action.RESTORE), self.count(Action.ORPHAN)
        text += f"{restored} restored, " if restored else ""
        text += f"{archived} archived, " if archived else ""
        in_use = sum(1 for r in self.results if r.change.action is Action.ORPHAN and r.change.used_by)
        text += f"{in_use} kept (in use by deployments), " if in_use else ""
        text += f"{len(self.failed)} failed."
        if self.records_deferred:
            text += (
                f" {self.records_deferred} last-applied record(s) deferred (ARM's write limit): the "
                "next plan reads those environments' versions, and the next apply writes them."
            )
        return text
