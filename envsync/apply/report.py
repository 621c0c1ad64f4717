"""ApplyResult → the closing summary line and the `apply --format json` document. Pure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from envsync import __version__
from envsync.apply.result import ApplyResult, ChangeResult, Outcome
from envsync.plan.model import Action
from envsync.plan.words import plural

FORMAT_VERSION = 1

# What a change that was carried out now is counted as, by its action.
_DONE_WORDS = {
    Action.CREATE: "created",
    Action.NEW_VERSION: ("new version", "new versions"),
    Action.UPDATE: "updated",
    Action.RESTORE: "restored",
    Action.ORPHAN: "archived",
}
_ALWAYS_SHOWN = (Action.CREATE, Action.NEW_VERSION, Action.UPDATE)  # workflows read these three


@dataclass(frozen=True)
class Counts:
    """How many changes came to each outcome, and the done ones by action."""

    done: dict[Action, int]
    outcomes: dict[Outcome, int]
    records_written: int  # unchanged environments whose last-applied record was written
    in_use: int  # orphans kept because deployments run them (counted apart from skipped)

    @classmethod
    def of(cls, results: Sequence[ChangeResult]) -> Counts:
        done = {a: 0 for a in _DONE_WORDS}
        outcomes = {o: 0 for o in Outcome}
        records = in_use = 0
        for r in results:
            if r.change.action is Action.NOOP and not r.failed:  # bookkeeping, not work
                records += r.outcome is Outcome.ALREADY  # else deferred: counted apart
                continue
            if r.change.used_by and r.outcome is Outcome.SKIPPED:
                in_use += 1
                continue
            outcomes[r.outcome] += 1
            if r.outcome is Outcome.DONE:
                done[r.change.action] += 1
        return cls(done, outcomes, records, in_use)


def summary(result: ApplyResult) -> str:
    """`Apply complete: 1 created, 0 new versions, 0 updated, 2 already done, 0 failed.`"""
    counts = Counts.of(result.results)
    parts = [_done_words(action, n) for action, n in counts.done.items() if n or action in _ALWAYS_SHOWN]
    parts += [f"{counts.in_use} kept (in use by deployments)"] if counts.in_use else []
    parts += [_outcome_words(o, n) for o, n in counts.outcomes.items() if n and o not in _UNLISTED]
    parts.append(f"{len(result.failed)} failed")
    text = f"Apply complete: {', '.join(parts)}."
    if counts.records_written:
        text += f" {plural(counts.records_written, 'last-applied record')} written."
    if result.records_deferred:
        text += (
            f" {plural(result.records_deferred, 'last-applied record')} deferred (ARM's write limit): the "
            "next plan reads those environments' versions, and the next apply writes them."
        )
    return text


_UNLISTED = (Outcome.DONE, Outcome.STALE, Outcome.CONFLICT, Outcome.FAILED)  # failures: one count


def _done_words(action: Action, count: int) -> str:
    words = _DONE_WORDS[action]
    return plural(count, *words) if isinstance(words, tuple) else f"{count} {words}"


def _outcome_words(outcome: Outcome, count: int) -> str:
    if outcome is Outcome.ALREADY:
        return f"{count} already done"
    return f"{count} {outcome.value}"  # skipped, and what later outcomes add (kept, refused)


def to_json(target: str, result: ApplyResult) -> dict[str, Any]:
    """One target's part of the document (schemas/apply.schema.json)."""
    counts = Counts.of(result.results)
    return {
        "target": target,
        "done": {a.value: n for a, n in counts.done.items()},
        "outcomes": {o.value: n for o, n in counts.outcomes.items()},
        "failed": len(result.failed),
        "records_written": counts.records_written,
        "kept_in_use": counts.in_use,
        "records_deferred": result.records_deferred,
        "summary": summary(result),
        "results": [_result_json(r) for r in result.results],
    }


def document(applied: Sequence[dict[str, Any]]) -> str:
    """Every target's part (`to_json`), in the versioned envelope."""
    doc = {
        "format_version": FORMAT_VERSION,
        "envsync_version": __version__,
        "ok": all(part["failed"] == 0 for part in applied),
        "targets": list(applied),
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _result_json(result: ChangeResult) -> dict[str, Any]:
    change = result.change
    return {
        "name": change.name,
        "version": change.version,
        "action": change.action.value,
        "outcome": result.outcome.value,
        "message": result.message,
        "source": change.source,
    }
