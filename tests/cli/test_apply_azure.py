"""The real CLI against an Azure target: the Azure ML REST client talking to the ARM emulator
over HTTP on 127.0.0.1. Apply's guarantees are tested here: idempotence, crash safety under
SIGKILL, concurrent applies, and convergence under injected faults."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from envsync.apply.bodies import version_body
from envsync.config import Config
from envsync.content.fingerprint import fingerprint
from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import ExitCode
from envsync.spec.load import load_all
from envsync.workspace import ListView
from envsync.workspace.local.workspace import LocalWorkspace
from tests.cli.conftest import TOKEN, azure_config
from tests.helpers import IMAGE, run, sample_repo, write_env


@pytest.fixture
def repo(azure_repo: Path) -> Path:
    return azure_repo


def versions_by_env(db: Path) -> dict[str, list[str]]:
    """Every non-curated environment's versions' fingerprints, straight from the emulator's db."""
    ws = LocalWorkspace(db)
    try:
        return {
            c.name: [fingerprint(v.body.content()) for v in ws.list_versions(c.name, ListView.ALL)]
            for c in ws.list_environments(ListView.ALL)
            if not c.curated
        }
    finally:
        ws.close()


def assert_no_duplicate_versions(db: Path) -> None:
    for name, prints in versions_by_env(db).items():
        assert len(prints) == len(set(prints)), f"{name} holds the same content twice"


def test_plan_apply_converge_on_azure_target(repo: Path, emulator: EmulatorHandle) -> None:
    assert "Plan: 0 orphans, 3 to create" in run(repo, "plan").output
    applied = run(repo, "apply", "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.output
    assert "Apply complete: 3 created" in applied.output
    assert emulator.stats().by_kind.get("blob.put", 0) == 2  # torch's context: Dockerfile + requirements
    again = run(repo, "plan", "--detailed-exitcode", "--refresh")
    assert again.exit_code == ExitCode.OK, again.output
    assert "No changes." in again.output
    write_env(repo, "sklearn", image="mcr.microsoft.com/azureml/other:1")
    assert run(repo, "apply", "--auto-approve").exit_code == ExitCode.OK
    assert emulator.stats().by_kind.get("blob.put", 0) == 2  # unchanged context: never re-uploaded


def test_plan_reads_at_most_one_request_per_environment_plus_pages(
    tmp_path: Path, emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "big"
    for i in range(1000):
        write_env(root, f"env-{i:04d}", tags={"n": str(i)})
    azure_config(root, emulator.url)
    monkeypatch.setenv("ENVSYNC_ARM_TOKEN", TOKEN)
    ws = LocalWorkspace(tmp_path / "emulator.db")
    for spec in load_all(Config(root=root)).specs:
        ws.create_version(spec.name, "1", version_body(spec))
    ws.close()
    pages = -(-(1000 + 4) // 50)  # 1,000 environments and the curated ones, 50 a page
    emulator.reset_stats()
    result = run(root, "plan", "--detailed-exitcode", "--refresh")
    assert result.exit_code == ExitCode.OK, result.output[-500:]
    assert emulator.stats().total <= 1000 + pages
    assert emulator.stats().by_kind.get("versions.list", 0) == 1000


def _apply_process(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "ENVSYNC_ARM_TOKEN": TOKEN, "NO_COLOR": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "envsync", "-C", str(root), "apply", "--auto-approve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _converge(root: Path, attempts: int = 4) -> None:
    for _ in range(attempts):
        proc = _apply_process(root)
        out, _ = proc.communicate(timeout=120)
        if proc.returncode == 0:
            return
    raise AssertionError(f"apply did not converge:\n{out}")


def test_sigkill_at_random_points_then_rerun_converges(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for i in range(8):
        write_env(root, f"env-{i}", tags={"round": "0"})
    rng = random.Random(20261125)
    with start_emulator(tmp_path / "emulator.db", isolate=False, latency_ms=15) as handle:
        azure_config(root, handle.url)
        for round_ in range(12):
            for i in rng.sample(range(8), 3):  # new content for some, new tags for others
                write_env(root, f"env-{i}", image=f"{IMAGE}-r{round_}", tags={"round": str(round_)})
            proc = _apply_process(root)
            time.sleep(rng.uniform(0.3, 1.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            _converge(root)
            assert_no_duplicate_versions(tmp_path / "emulator.db")
        final = subprocess.run(
            [sys.executable, "-m", "envsync", "-C", str(root), "plan", "--detailed-exitcode", "--refresh"],
            env={**os.environ, "ENVSYNC_ARM_TOKEN": TOKEN},
            capture_output=True,
            text=True,
            check=False,
        )
        assert final.returncode == 0, final.stdout + final.stderr


def test_two_concurrent_applies_create_one_version_per_content(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for i in range(10):
        write_env(root, f"env-{i}")
    with start_emulator(tmp_path / "emulator.db", isolate=False, latency_ms=5) as handle:
        azure_config(root, handle.url)
        both = [_apply_process(root), _apply_process(root)]
        outputs = [p.communicate(timeout=120)[0] for p in both]
        assert [p.returncode for p in both] == [0, 0], outputs
    found = versions_by_env(tmp_path / "emulator.db")
    assert len(found) == 10
    assert all(len(prints) == 1 for prints in found.values()), found


def test_apply_converges_under_faults_and_throttling(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    sample_repo(root)
    for i in range(6):
        write_env(root, f"extra-{i}", description=f"number {i}")
    options = {"fault_rate": 0.2, "throttle_rate": 0.2, "seed": 7, "retry_after": 0}
    with start_emulator(tmp_path / "emulator.db", isolate=False, **options) as handle:
        azure_config(root, handle.url)
        _converge(root, attempts=4)
        assert handle.stats().faults > 0
        assert handle.stats().throttled > 0
    found = versions_by_env(tmp_path / "emulator.db")
    assert sorted(found) == sorted(["base-cpu", "sklearn", "torch"] + [f"extra-{i}" for i in range(6)])
    assert all(len(prints) == 1 for prints in found.values())
