"""Apply summaries: work done apart from work found done, plurals, and the JSON counts."""

from __future__ import annotations

import json

from envsync.apply import report
from envsync.apply.result import ApplyResult, ChangeResult, Outcome
from envsync.plan.model import Action, Change
from envsync.plan.words import plural
from envsync.spec.schemas import validator


def _result(action: Action, outcome: Outcome, name: str = "env", message: str = "") -> ChangeResult:
    return ChangeResult(Change(name, action, "1", "0" * 64), outcome, message)


def test_found_done_is_counted_apart_from_done() -> None:
    result = ApplyResult(
        (
            _result(Action.CREATE, Outcome.DONE),
            _result(Action.CREATE, Outcome.ALREADY),
            _result(Action.UPDATE, Outcome.ALREADY),
        )
    )
    assert report.summary(result) == (
        "Apply complete: 1 created, 0 new versions, 0 updated, 2 already done, 0 failed."
    )


def test_singular_and_plural_and_rare_outcomes_only_when_present() -> None:
    result = ApplyResult(
        (
            _result(Action.NEW_VERSION, Outcome.DONE),
            _result(Action.ORPHAN, Outcome.DONE),
            _result(Action.ORPHAN, Outcome.SKIPPED, message="orphan kept (archive it with --prune)"),
            _result(Action.NOOP, Outcome.ALREADY),
            _result(Action.UPDATE, Outcome.CONFLICT),
        ),
        records_deferred=1,
    )
    text = report.summary(result)
    assert text.startswith(
        "Apply complete: 0 created, 1 new version, 0 updated, 1 archived, 1 skipped, 1 failed."
    )
    assert " 1 last-applied record written." in text
    assert " 1 last-applied record deferred " in text
    assert plural(1, "orphan") == "1 orphan"
    assert plural(2, "orphan") == "2 orphans"


def test_json_document_counts_and_validates() -> None:
    result = ApplyResult((_result(Action.CREATE, Outcome.DONE), _result(Action.UPDATE, Outcome.ALREADY)))
    doc = json.loads(report.document([report.to_json("local", result)]))
    validator("apply").validate(doc)
    part = doc["targets"][0]
    assert (doc["ok"], part["done"]["create"], part["outcomes"]["already"], part["failed"]) == (True, 1, 1, 0)
    assert [r["outcome"] for r in part["results"]] == ["done", "already"]
