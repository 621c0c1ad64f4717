"""--name / --exclude on plan, apply and drift, end to end on the embedded local workspace."""

from __future__ import annotations

import json
from pathlib import Path

from envsync.errors import ExitCode
from envsync.workspace import ListView
from envsync.workspace.local.workspace import LocalWorkspace
from tests.helpers import run, write_env


def _names(root: Path) -> list[str]:
    ws = LocalWorkspace(root / ".envsync" / "workspace.db")
    return sorted(c.name for c in ws.list_environments(ListView.ALL) if not c.curated)


def test_plan_and_apply_only_the_selected_names_and_say_partial(sample: Path) -> None:
    planned = run(sample, "plan", "--name", "s*", "--name", "torch", "--exclude", "torch")
    assert planned.exit_code == ExitCode.OK, planned.output
    assert "+ sklearn:1" in planned.output and "base-cpu" not in planned.output
    assert "Partial plan (--name 's*' --name torch --exclude torch)" in planned.output
    assert "Plan: 0 orphans, 1 to create, 0 new versions, 0 to update. Partial:" in planned.output
    applied = run(sample, "apply", "--auto-approve", "--name", "sklearn")
    assert applied.exit_code == ExitCode.OK, applied.output
    assert "Apply complete: 1 created," in applied.output
    assert _names(sample) == ["sklearn"]


def test_partial_prune_never_archives_what_it_did_not_select(sample: Path) -> None:
    assert run(sample, "apply", "--auto-approve").exit_code == ExitCode.OK
    (sample / "environments" / "sklearn.yml").unlink()
    (sample / "environments" / "base-cpu.yml").unlink()
    pruned = run(sample, "apply", "--auto-approve", "--prune", "--name", "base-*")
    assert pruned.exit_code == ExitCode.OK, pruned.output
    assert "base-cpu:1: archived" in pruned.output and "sklearn" not in pruned.output
    ws = LocalWorkspace(sample / ".envsync" / "workspace.db")
    assert not ws.get_version("sklearn", "1").archived  # type: ignore[union-attr]


def test_saved_partial_plan_keeps_its_selection_and_apply_refuses_a_new_one(sample: Path) -> None:
    out = sample / "plan.json"
    assert run(sample, "plan", "--name", "torch", "--out", str(out)).exit_code == ExitCode.OK
    assert json.loads(out.read_text())["selection"] == {"names": ["torch"], "exclude": []}
    refused = run(sample, "apply", str(out), "--name", "sklearn")
    assert refused.exit_code == ExitCode.ERROR
    assert "a saved plan applies as it was made" in refused.output
    applied = run(sample, "apply", str(out))
    assert applied.exit_code == ExitCode.OK, applied.output
    assert _names(sample) == ["torch"]


def test_drift_reports_only_the_selected_names(sample: Path) -> None:
    assert run(sample, "apply", "--auto-approve").exit_code == ExitCode.OK
    write_env(sample, "base-cpu", version="1", description="Base image", tags={"team": "ai"})
    write_env(sample, "sklearn", image="mcr.microsoft.com/azureml/other:2")
    drifted = run(sample, "drift", "--exclude", "sklearn")
    assert drifted.exit_code == ExitCode.CHANGES, drifted.output
    assert "base-cpu" in drifted.output and "sklearn" not in drifted.output.replace("--exclude sklearn", "")
    assert "Partial drift report (--exclude sklearn)" in drifted.output
    assert "envsync apply --refresh -t local --exclude sklearn" in drifted.output
    clean = run(sample, "drift", "--name", "torch", "--format", "json")
    assert clean.exit_code == ExitCode.OK, clean.output
    assert json.loads(clean.stdout)["selection"] == {"names": ["torch"], "exclude": []}
