"""The real CLI's apply summary and `apply --format json`, on the embedded local workspace."""

from __future__ import annotations

import json
from pathlib import Path

from envsync.errors import ExitCode
from envsync.spec.schemas import validator
from tests.helpers import run


def test_reapplied_saved_plan_counts_already_done_in_text_and_json(sample: Path) -> None:
    plan = sample / "plan.json"
    assert run(sample, "plan", "--out", str(plan)).exit_code == ExitCode.OK
    first = run(sample, "apply", str(plan), "--format", "json")
    assert first.exit_code == ExitCode.OK, first.output
    doc = json.loads(first.stdout)
    validator("apply").validate(doc)
    assert doc["targets"][0]["done"]["create"] == 3
    again = run(sample, "apply", str(plan))
    assert again.exit_code == ExitCode.OK, again.output
    last = again.stdout.strip().splitlines()[-1]
    assert last == "Apply complete: 0 created, 0 new versions, 0 updated, 3 already done, 0 failed."


def test_apply_json_keeps_stdout_for_the_document(sample: Path) -> None:
    result = run(sample, "apply", "--auto-approve", "--format", "json")
    assert result.exit_code == ExitCode.OK, result.output
    doc = json.loads(result.stdout)  # the plan, progress and summary went to stderr
    validator("apply").validate(doc)
    part = doc["targets"][0]
    assert (doc["ok"], part["target"], part["outcomes"]["done"]) == (True, "local", 3)
    assert "Apply complete: 3 created" in result.stderr
    nothing = json.loads(run(sample, "apply", "--auto-approve", "--format", "json").stdout)
    assert nothing["targets"][0]["outcomes"]["done"] == 0
