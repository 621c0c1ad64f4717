"""The real CLI with a registry target beside a dev workspace, both on the emulator: the
examples promoted to both, an edit planned in two sections, registry references in jobs,
list/show/import/drift on the registry, a registry fed a subset, and a SIGKILL while a
registry operation is in progress."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from envsync.content.fingerprint import fingerprint
from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import ExitCode
from envsync.http.session import StaticTokenCredential
from envsync.workspace import ListView
from envsync.workspace.azure.registry import AzureMLRegistry
from tests.helpers import IMAGE, run, write_env

EXAMPLES = Path(__file__).resolve().parents[2] / "environments"
REGISTRY_ID = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/registries/{}"
NAMES = ["lightgbm-cpu", "minimal-cpu", "pytorch-train", "sklearn-cpu", "sklearn-serve"]


def promotion_config(root: Path, url: str, registry_extra: str = "") -> None:
    (root / "envsync.yaml").write_text(
        "default_target: dev\n"
        "targets:\n"
        f"  dev: {{type: azureml, subscription_id: sub, resource_group: rg, workspace: ml-dev, endpoint: '{url}'}}\n"
        f"  shared: {{type: registry, subscription_id: sub, resource_group: rg, registry: org-registry,"
        f" endpoint: '{url}'{registry_extra}}}\n"
    )


def registry_versions(url: str, name: str = "org-registry") -> dict[str, list[str]]:
    """Every environment's versions' fingerprints in a registry, read over its REST API."""
    client = AzureMLRegistry(url + REGISTRY_ID.format(name), StaticTokenCredential("t"))
    try:
        return {
            c.name: [fingerprint(v.body.content()) for v in client.list_versions(c.name, ListView.ALL)]
            for c in client.list_environments(ListView.ALL)
        }
    finally:
        client.close()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorHandle]:
    """Registry writes stay InProgress a little while, as they do in Azure."""
    with start_emulator(tmp_path / "emulator.db", page_size=50, operation_seconds=0.2) as handle:
        yield handle


@pytest.fixture
def promoted(tmp_path: Path, emulator: EmulatorHandle) -> Path:
    """The example environments applied to a dev workspace and an organisation's registry."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLES, root / "environments")
    (root / "jobs").mkdir()
    (root / "jobs" / "train.yml").write_text(
        "command: python train.py\n"
        "environment: azureml://registries/org-registry/environments/lightgbm-cpu/labels/latest\n"
    )
    (root / "jobs" / "pinned.yml").write_text(
        "command: python train.py\n"
        "environment: azureml://registries/org-registry/environments/lightgbm-cpu/versions/1\n"
    )
    promotion_config(root, emulator.url)
    first = run(root, "plan", "--all-targets")
    assert first.exit_code == ExitCode.OK, first.output
    assert first.output.count("Plan: 0 orphans, 5 to create") == 2
    applied = run(root, "apply", "--all-targets", "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.output
    assert applied.output.count("Apply complete: 5 created") == 2, applied.output
    return root


def test_examples_promoted_to_a_workspace_and_a_registry_then_an_edit_planned_for_both(
    promoted: Path, emulator: EmulatorHandle
) -> None:
    assert sorted(registry_versions(emulator.url)) == NAMES
    kinds = emulator.stats().by_kind
    assert kinds["registry.versions.put"] >= 5 and kinds["operations.get"] >= 5
    assert kinds["dataplane.tempdatarefs"] == 1  # pytorch-train's build context, for its version 1
    unchanged = run(promoted, "plan", "--all-targets", "--detailed-exitcode", "--refresh")
    assert unchanged.exit_code == ExitCode.OK, unchanged.output
    assert unchanged.output.count("No changes.") == 2

    conda = promoted / "environments" / "lightgbm-cpu.yml"
    conda.write_text(conda.read_text().replace("lightgbm==4.3.0", "lightgbm==4.5.0"))
    edited = run(promoted, "plan", "--all-targets", "--detailed-exitcode")
    assert edited.exit_code == ExitCode.CHANGES, edited.output
    dev, shared = edited.output.split("Target: shared")
    assert dev.startswith("Target: dev")
    for section in (dev, shared):
        assert "+ lightgbm-cpu:2  (new version, latest is 1)" in section
        assert "~ lightgbm 4.3.0 → 4.5.0" in section
        assert "Plan: 0 orphans, 0 to create, 1 new version" in section
    # The registry's plan lists the job that picks the new version up (labels/latest), not the pin.
    assert (
        "# used by jobs/train.yml:2 (azureml://registries/org-registry/environments/lightgbm-cpu/labels/latest)"
        in shared
    )
    assert "jobs/pinned.yml" not in shared and "# used by" not in dev
    applied = run(promoted, "apply", "-t", "shared", "--auto-approve")
    assert applied.exit_code == ExitCode.OK and "1 new version" in applied.output, applied.output
    assert len(registry_versions(emulator.url)["lightgbm-cpu"]) == 2
    again = run(promoted, "plan", "--all-targets", "--detailed-exitcode")
    assert again.exit_code == ExitCode.CHANGES  # dev still has version 1 only
    assert again.output.split("Target: shared")[1].count("No changes.") == 1


def test_registry_references_are_checked_against_the_registry(promoted: Path) -> None:
    (promoted / "jobs" / "bad.yml").write_text(
        "command: x\nenvironment: azureml://registries/org-registry/environments/minimal-cpu/versions/7\n"
    )
    (promoted / "jobs" / "elsewhere.yml").write_text(
        "command: x\nenvironment: azureml://registries/azureml/environments/nope/labels/latest\n"
    )
    shared = run(promoted, "plan", "-t", "shared")
    assert shared.exit_code == ExitCode.ERROR
    assert (
        "jobs/bad.yml:2:14: azureml://registries/org-registry/environments/minimal-cpu/versions/7: "
        "'minimal-cpu' has no version 7 in registry org-registry (known versions: 1)"
    ) in shared.output
    assert "elsewhere.yml" not in shared.output  # another registry: not checkable here
    assert run(promoted, "plan", "-t", "dev").exit_code == ExitCode.OK  # a workspace's plan skips them


def test_list_show_drift_and_import_on_the_registry(promoted: Path, tmp_path: Path) -> None:
    listed = run(promoted, "list", "-t", "shared")
    assert listed.exit_code == ExitCode.OK and all(n in listed.output for n in NAMES)
    shown = run(promoted, "show", "pytorch-train@latest", "-t", "shared", "--format", "json")
    assert shown.exit_code == ExitCode.OK and "/LocalUpload/" in shown.output
    drift = run(promoted, "drift", "-t", "shared")
    assert drift.exit_code == ExitCode.OK, drift.output
    out = tmp_path / "imported"
    imported = run(promoted, "import", "-t", "shared", "--name", "pytorch-train", "--out", str(out))
    assert imported.exit_code == ExitCode.OK, imported.output
    source = EXAMPLES / "pytorch-train"
    for name in ("Dockerfile", "requirements.txt"):
        assert (out / "pytorch-train" / "context" / name).read_bytes() == (source / name).read_bytes()


def test_prune_archives_in_the_registry_and_a_yaml_brought_back_is_restored(
    promoted: Path, emulator: EmulatorHandle
) -> None:
    yaml_file = promoted / "environments" / "minimal-cpu.yml"
    text = yaml_file.read_text()
    yaml_file.unlink()
    pruned = run(promoted, "apply", "-t", "shared", "--auto-approve", "--prune")
    assert pruned.exit_code == ExitCode.OK and "minimal-cpu:1" in pruned.output, pruned.output
    client = AzureMLRegistry(emulator.url + REGISTRY_ID.format("org-registry"), StaticTokenCredential("t"))
    assert [v.archived for v in client.list_versions("minimal-cpu", ListView.ALL)] == [True]
    yaml_file.write_text(text)
    planned = run(promoted, "plan", "-t", "shared")
    assert "~ minimal-cpu:1  (restore: un-archive)" in planned.output, planned.output
    restored = run(promoted, "apply", "-t", "shared", "--auto-approve")
    assert restored.exit_code == ExitCode.OK and "1 restored" in restored.output, restored.output
    assert [v.archived for v in client.list_versions("minimal-cpu", ListView.ALL)] == [False]
    assert "No changes." in run(promoted, "plan", "-t", "shared", "--refresh").output


def test_a_registry_fed_a_subset_of_the_environments(tmp_path: Path, emulator: EmulatorHandle) -> None:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLES, root / "environments")
    promotion_config(root, emulator.url, ", environments: 'environments/sklearn-*.yml'")
    plan = run(root, "plan", "--all-targets")
    assert plan.exit_code == ExitCode.OK, plan.output
    dev, shared = plan.output.split("Target: shared")
    assert "Plan: 0 orphans, 5 to create" in dev and "Plan: 0 orphans, 2 to create" in shared
    assert "sklearn-cpu:3" in shared and "sklearn-serve:1" in shared and "lightgbm" not in shared


def test_writes_the_client_gave_up_on_count_as_done_on_the_next_run(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for i in range(3):
        write_env(root, f"env-{i}")
    with start_emulator(tmp_path / "emulator.db", operation_seconds=1.5) as handle:
        promotion_config(root, handle.url, ", operation_timeout: 0.2")
        impatient = run(root, "apply", "-t", "shared", "--auto-approve")
        assert impatient.exit_code == ExitCode.ERROR
        assert (
            impatient.output.count("the operation was still running after 0.2 s; it may finish on its own")
            == 3
        )
        time.sleep(1.6)  # the service finishes them without the client
        assert sorted(registry_versions(handle.url)) == ["env-0", "env-1", "env-2"]
        again = run(root, "apply", "-t", "shared", "--auto-approve")
        assert again.exit_code == ExitCode.OK, again.output
        assert "0 created" in again.output and handle.stats().by_kind["registry.versions.put"] == 3
        assert all(len(v) == 1 for v in registry_versions(handle.url).values())
        assert "No changes." in run(root, "plan", "-t", "shared").output


# -- a kill while registry operations are in progress --------------------------------------------


def _apply(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "envsync", "-C", str(root), "apply", "-t", "shared", "--auto-approve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_sigkill_while_registry_operations_run_then_a_rerun_converges_with_no_duplicate(
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    for i in range(6):
        write_env(root, f"env-{i}", tags={"n": str(i)})
    write_env(root, "env-0", image=f"{IMAGE}-new", tags={"n": "0"})
    with start_emulator(tmp_path / "emulator.db", operation_seconds=3.0) as handle:
        promotion_config(root, handle.url)
        proc = _apply(root)
        deadline = time.monotonic() + 30
        while handle.operations_in_progress() < 6 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert handle.operations_in_progress() == 6, "apply never had its six creates in flight"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert registry_versions(handle.url) == {}  # nothing done yet: every create still running
        rerun = _apply(root)
        out, _ = rerun.communicate(timeout=60)
        assert rerun.returncode == 0, out
        found = registry_versions(handle.url)
        assert sorted(found) == [f"env-{i}" for i in range(6)]
        assert all(len(prints) == 1 for prints in found.values()), found  # no duplicate version
        final = subprocess.run(
            [
                sys.executable,
                "-m",
                "envsync",
                "-C",
                str(root),
                "plan",
                "-t",
                "shared",
                "--refresh",
                "--detailed-exitcode",
            ],
            env=dict(os.environ),
            capture_output=True,
            text=True,
            check=False,
        )
        assert final.returncode == 0, final.stdout + final.stderr
