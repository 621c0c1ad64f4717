"""Never archive what is running: the real CLI against the emulator, with online and batch
deployments made over ARM as az ml makes them. Prune keeps the version a deployment runs and
names it, archives the other orphans, counts what it kept; a saved plan reads deployments again
before it archives; @latest moves are shown; plans that would archive nothing read no deployment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import ExitCode
from envsync.http.session import StaticTokenCredential
from envsync.workspace.azure.workspace import AzureMLWorkspace
from tests.cli.conftest import TOKEN, azure_config
from tests.helpers import run, sample_repo, write_env
from tests.workspace.deployments import BATCH, ONLINE, deploy

WS = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1"
USAGE_KINDS = (
    "online.endpoints.list",
    "batch.endpoints.list",
    "online.deployments.list",
    "batch.deployments.list",
)


def client(emulator: EmulatorHandle) -> AzureMLWorkspace:
    return AzureMLWorkspace(emulator.url + WS, StaticTokenCredential(TOKEN))


def usage_requests(emulator: EmulatorHandle) -> int:
    kinds = emulator.stats().by_kind
    return sum(kinds.get(k, 0) for k in USAGE_KINDS)


@pytest.fixture
def applied(azure_repo: Path) -> Path:
    done = run(azure_repo, "apply", "--auto-approve")
    assert done.exit_code == ExitCode.OK, done.output
    return azure_repo


def test_prune_keeps_the_version_an_online_deployment_runs(applied: Path, emulator: EmulatorHandle) -> None:
    deploy(client(emulator), ONLINE, "churn-scoring", "blue", "azureml:sklearn:1")
    (applied / "environments" / "sklearn.yml").unlink()
    (applied / "environments" / "base-cpu.yml").unlink()
    planned = run(applied, "plan")
    assert planned.exit_code == ExitCode.OK, planned.output
    assert "- sklearn:1  (orphan: kept, a live deployment runs it)" in planned.output
    assert "# kept: used by online deployment blue of endpoint churn-scoring" in planned.output
    assert "- base-cpu:1  (orphan: archived only with --prune)" in planned.output
    assert "Plan: 2 orphans (1 kept: in use by deployments), " in planned.output
    pruned = run(applied, "apply", "--auto-approve", "--prune")
    assert pruned.exit_code == ExitCode.OK, pruned.output
    assert "Plan: 1 to archive (1 kept: in use by deployments), " in pruned.output
    assert "base-cpu:1: archived" in pruned.output
    assert (
        "sklearn:1: skipped: kept: used by online deployment blue of endpoint churn-scoring" in pruned.output
    )
    assert "1 archived, 1 kept (in use by deployments), 0 failed." in pruned.output
    workspace = client(emulator)
    assert not workspace.get_version("sklearn", "1").archived  # type: ignore[union-attr]
    assert workspace.get_version("base-cpu", "1").archived  # type: ignore[union-attr]


def test_prune_keeps_the_version_a_batch_deployment_runs_by_arm_id(
    applied: Path, emulator: EmulatorHandle
) -> None:
    deploy(client(emulator), BATCH, "nightly-scoring", "main", f"{WS}/environments/torch/versions/1")
    for name in ("sklearn", "base-cpu", "torch"):
        (applied / "environments" / f"{name}.yml").unlink()
    pruned = run(applied, "apply", "--auto-approve", "--prune")
    assert pruned.exit_code == ExitCode.OK, pruned.output
    assert "# kept: used by batch deployment main of endpoint nightly-scoring" in pruned.output
    assert "2 archived, 1 kept (in use by deployments), 0 failed." in pruned.output
    assert not client(emulator).get_version("torch", "1").archived  # type: ignore[union-attr]


def test_a_deployment_in_another_workspace_keeps_nothing_here(
    applied: Path, emulator: EmulatorHandle
) -> None:
    other = WS.replace("/ws1", "/ws2")
    deploy(client(emulator), ONLINE, "elsewhere", "blue", f"{other}/environments/sklearn/versions/1")
    (applied / "environments" / "sklearn.yml").unlink()
    pruned = run(applied, "apply", "--auto-approve", "--prune")
    assert "sklearn:1: archived" in pruned.output, pruned.output


def test_a_saved_plan_reads_deployments_again_before_it_archives(
    applied: Path, emulator: EmulatorHandle
) -> None:
    (applied / "environments" / "sklearn.yml").unlink()
    saved = applied / "plan.json"
    assert run(applied, "plan", "--out", str(saved)).exit_code == ExitCode.OK
    deploy(client(emulator), ONLINE, "churn-scoring", "green", "azureml:sklearn:1")  # after the plan
    out = run(applied, "apply", str(saved), "--prune")
    assert out.exit_code == ExitCode.OK, out.output
    assert "sklearn:1: skipped: kept: used by online deployment green of endpoint churn-scoring" in out.output
    assert not client(emulator).get_version("sklearn", "1").archived  # type: ignore[union-attr]


def test_no_change_plans_read_no_deployment_and_orphan_plans_read_them_once(
    applied: Path, emulator: EmulatorHandle
) -> None:
    deploy(client(emulator), ONLINE, "churn-scoring", "blue", "azureml:sklearn:1")
    deploy(client(emulator), BATCH, "nightly", "main", "azureml:torch:1")
    emulator.reset_stats()
    assert "No changes." in run(applied, "plan").output
    assert usage_requests(emulator) == 0
    asked = run(applied, "plan", "--usage", "-v")
    assert "# running in online deployment blue of endpoint churn-scoring" in asked.output
    assert usage_requests(emulator) == 4  # two endpoint lists, one deployment list per endpoint
    (applied / "environments" / "base-cpu.yml").unlink()
    emulator.reset_stats()
    run(applied, "plan")
    assert usage_requests(emulator) == 4


def test_latest_moves_are_shown_before_prune(applied: Path, emulator: EmulatorHandle) -> None:
    write_env(applied, "sklearn", image="mcr.microsoft.com/azureml/other:2")
    assert run(applied, "apply", "--auto-approve").exit_code == ExitCode.OK  # sklearn:2, latest
    deploy(client(emulator), ONLINE, "churn-scoring", "blue", "azureml:sklearn:1")
    deploy(client(emulator), ONLINE, "churn-scoring", "canary", "azureml:sklearn@latest")
    (applied / "jobs").mkdir()
    (applied / "jobs" / "train.yml").write_text(
        "type: command\ncommand: python t.py\nenvironment: azureml:sklearn@latest\n"
    )
    (applied / "environments" / "sklearn.yml").unlink()
    out = run(applied, "plan").output
    assert "# with --prune, azureml:sklearn@latest moves from 2 to 1" in out
    assert "# used by online deployment canary of endpoint churn-scoring" in out
    assert "# used by jobs/train.yml:3 (azureml:sklearn@latest)" in out
    pruned = run(applied, "apply", "--auto-approve", "--prune").output
    assert "# with --prune, azureml:sklearn@latest moves from 2 to 1" in pruned
    assert "# used by jobs/train.yml:3 (azureml:sklearn@latest)" in pruned  # apply's own plan says so too
    assert "sklearn:2: archived" in pruned


def test_show_and_list_usage_name_the_deployments(applied: Path, emulator: EmulatorHandle) -> None:
    deploy(client(emulator), ONLINE, "churn-scoring", "blue", "azureml:sklearn:1")
    deploy(client(emulator), BATCH, "nightly", "main", f"{WS}/environments/sklearn/versions/1")
    deploy(client(emulator), ONLINE, "churn-scoring", "canary", "azureml:sklearn@latest")
    shown = run(applied, "show", "sklearn:1", "--format", "json")
    assert shown.exit_code == ExitCode.OK, shown.output
    assert json.loads(shown.output)["used_by"] == [
        "batch deployment main of endpoint nightly",
        "online deployment blue of endpoint churn-scoring",
    ]
    assert json.loads(run(applied, "show", "base-cpu:1", "--format", "json").output)["used_by"] == []
    versions = run(applied, "list", "--name", "sklearn", "--usage")
    assert versions.output.splitlines()[0].split() == ["NAME", "VERSION", "CREATED", "USED", "BY"]
    assert versions.output.rstrip().endswith(
        "batch deployment main of endpoint nightly, online deployment blue of endpoint churn-scoring"
    )
    listed = json.loads(run(applied, "list", "--usage", "--format", "json").output)
    by_name = {row["name"]: row["used_by"] for row in listed}
    assert by_name["base-cpu"] == ""
    assert by_name["sklearn"] == (
        "1: batch deployment main of endpoint nightly, online deployment blue of endpoint churn-scoring; "
        "@latest: online deployment canary of endpoint churn-scoring"
    )
    emulator.reset_stats()
    run(applied, "list")
    assert usage_requests(emulator) == 0  # only when asked


def test_list_usage_of_a_registry_says_it_cannot_see_deployments(
    tmp_path: Path, emulator: EmulatorHandle
) -> None:
    (tmp_path / "envsync.yaml").write_text(
        "default_target: reg\ntargets:\n"
        f"  reg: {{type: registry, subscription_id: sub, resource_group: rg, registry: shared, endpoint: '{emulator.url}'}}\n"
    )
    result = run(tmp_path, "list", "--usage", env={"ENVSYNC_ARM_TOKEN": TOKEN})
    assert result.exit_code == ExitCode.ERROR
    assert (
        "is a registry: the workspace deployments that run its versions cannot be seen from it"
        in result.output
    )


def test_an_identity_that_may_not_read_endpoints_keeps_every_orphan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = ("Microsoft.MachineLearningServices/workspaces/onlineEndpoints/read",)
    with start_emulator(tmp_path / "emulator.db", principal_not_actions=refused) as handle:
        root = sample_repo(tmp_path / "repo")
        azure_config(root, handle.url)
        monkeypatch.setenv("ENVSYNC_ARM_TOKEN", TOKEN)
        assert run(root, "apply", "--auto-approve").exit_code == ExitCode.OK
        (root / "environments" / "sklearn.yml").unlink()
        write_env(root, "extra")
        out = run(root, "apply", "--auto-approve", "--prune")
        assert out.exit_code == ExitCode.OK, out.output
        assert "# kept: used by any deployment: they could not be read (AuthorizationFailed)" in out.output
        assert "extra:1: created" in out.output
        assert not client(handle).get_version("sklearn", "1").archived  # type: ignore[union-attr]
