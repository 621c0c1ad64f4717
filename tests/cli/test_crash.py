"""Crash safety, deterministically: an `envsync apply --prune` process is SIGKILLed right after
its Nth request reached the emulator (which holds that request until the kill, then completes
it: the work done, the answer lost), for every N of a small plan; then apply runs again and the
workspace must converge: no duplicate version, `plan --refresh` says "No changes.", drift is
clean. The soak suite (soak/) does the same at every request of a larger apply."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import ExitCode
from tests.cli.conftest import TOKEN
from tests.cli.test_apply_azure import assert_no_duplicate_versions
from tests.forker import Forker, alive, kill
from tests.helpers import run, write_env

CONFIG = (
    "default_target: emu\nconcurrency: 1\n"
    "targets:\n  emu: {type: azureml, subscription_id: sub, resource_group: rg, workspace: ws1}\n"
)
APPLY = ["apply", "--auto-approve", "--prune", "--concurrency", "1"]


@pytest.fixture(scope="module")
def forker() -> Iterator[Forker]:
    made = Forker()
    yield made
    made.close()


def repo(root: Path, *, after: bool) -> Path:
    """Before: `kept` and `gone`. After: `gone` deleted (an orphan to archive), `fresh` new."""
    write_env(root, "kept")
    write_env(root, "fresh" if after else "gone")
    (root / "envsync.yaml").write_text(CONFIG)
    return root


def env_for(url: str) -> dict[str, str]:
    return {"ENVSYNC_ARM_ENDPOINT": url, "ENVSYNC_ARM_TOKEN": TOKEN, "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    """The workspace before (a SQLite file to copy), the edited repo, and how many requests
    its apply makes when nothing kills it."""
    tmp = tmp_path_factory.mktemp("crash")
    db, root = tmp / "baseline.db", repo(tmp / "after", after=True)
    with start_emulator(db, isolate=False) as handle:
        assert run(repo(tmp / "before", after=False), *APPLY, env=env_for(handle.url)).exit_code == 0
    shutil.copy(db, tmp / "clean.db")
    with start_emulator(tmp / "clean.db", isolate=False) as handle:
        applied = run(root, *APPLY, env=env_for(handle.url))
        assert applied.exit_code == ExitCode.OK, applied.output
        assert "1 created, 0 new versions, 0 updated, 1 archived, 0 failed" in applied.output
        requests = handle.stats().total
    assert 8 <= requests <= 20, requests
    return db, root, requests


def kill_at(n: int, handle: EmulatorHandle, forker: Forker, root: Path, out: Path) -> str:
    """Start apply, SIGKILL it once its request `n` reached the emulator, then let the
    emulator finish that request; what the request did."""
    hold = handle.hold(n)
    pid = forker.start(["-C", str(root), *APPLY], out, env_for(handle.url))
    try:
        while not hold.wait(0.01):
            assert alive(pid), f"apply ended before its request {n}:\n{out.read_text()}"
    finally:
        if alive(pid):
            kill(pid)
    assert hold.release(wait=10)
    return hold.request


def test_sigkill_after_every_request_then_rerun_converges(
    baseline: tuple[Path, Path, int], forker: Forker, tmp_path: Path
) -> None:
    db, root, requests = baseline
    reverted = repo(tmp_path / "reverted", after=True)
    (reverted / "environments" / "fresh.yml").unlink()
    killed_at: list[str] = []
    for n in range(1, requests + 1):
        kind = killed_then_converges(n, db, root, root, forker, tmp_path / f"{n}")
        killed_at.append(kind)
        if kind.endswith(".put"):
            # The commit that added `fresh` reverted after the kill: what the killed apply
            # created of it is an orphan, found and archived even without its record.
            killed_then_converges(n, db, root, reverted, forker, tmp_path / f"{n}-reverted")
    # The kills landed on every kind of step: reads, version writes, archives and records.
    assert {"containers.list", "versions.list", "versions.put", "containers.put"} <= set(killed_at), killed_at


def killed_then_converges(n: int, db: Path, root: Path, rerun_root: Path, forker: Forker, tmp: Path) -> str:
    state = tmp.with_suffix(".db")
    shutil.copy(db, state)
    with start_emulator(state, isolate=False) as handle:
        kind = kill_at(n, handle, forker, root, tmp.with_suffix(".out"))
        where = f"killed after request {n} ({kind}), rerun in {rerun_root.name}"
        rerun = run(rerun_root, *APPLY, env=env_for(handle.url))
        assert rerun.exit_code == ExitCode.OK, f"{where}:\n{rerun.output}"
        planned = run(rerun_root, "plan", "--refresh", "--detailed-exitcode", env=env_for(handle.url))
        assert planned.exit_code == ExitCode.OK and "No changes." in planned.output, (
            f"{where}:\n{planned.output}"
        )
        drift = run(rerun_root, "drift", env=env_for(handle.url))
        assert drift.exit_code == ExitCode.OK, f"{where}:\n{drift.output}"
    assert_no_duplicate_versions(state)
    return kind


def test_the_forker_reports_a_killed_process_gone(forker: Forker, tmp_path: Path) -> None:
    pid = forker.start(["--help"], tmp_path / "help.out", {})
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not alive(pid)
    assert "Usage" in (tmp_path / "help.out").read_text()
