"""What an apply costs in requests, counted by the emulator: a new version is one PUT plus its
record's PUT, an update a read-modify-write plus the record's PUT; under ARM's write limit the
records give way to the versions and the next apply writes them."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import ExitCode
from tests.cli.conftest import TOKEN, azure_config
from tests.helpers import IMAGE, run, write_env

COUNT = 20


@pytest.fixture
def root(tmp_path: Path, emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "repo"
    for i in range(COUNT):
        write_env(folder, f"env-{i:02d}", tags={"round": "0"})
    azure_config(folder, emulator.url)
    monkeypatch.setenv("ENVSYNC_ARM_TOKEN", TOKEN)
    return folder


def applied(root: Path, emulator: EmulatorHandle, *args: str) -> dict[str, int]:
    """Run `apply --auto-approve`; the requests its changes sent, by kind (without its plan's:
    a page of containers, and for the environments whose record does not match git, which
    every plan reads, a GET of the container (lists lag writes: the listing's record may be
    old) and their versions)."""
    emulator.reset_stats()
    result = run(root, "apply", "--auto-approve", *args)
    assert result.exit_code == ExitCode.OK, result.output
    kinds = dict(emulator.stats().by_kind)
    assert kinds.pop("containers.list") == 1
    assert kinds.pop("containers.get", 0) <= COUNT
    assert kinds.pop("versions.list", 0) in (0, COUNT)
    return kinds


def test_a_new_version_costs_two_requests(root: Path, emulator: EmulatorHandle) -> None:
    assert applied(root, emulator) == {"versions.put": COUNT, "containers.put": COUNT}
    for i in range(COUNT):  # new content for every environment: a new version each
        write_env(root, f"env-{i:02d}", image=f"{IMAGE}-2", tags={"round": "0"})
    assert applied(root, emulator) == {"versions.put": COUNT, "containers.put": COUNT}
    assert run(root, "plan", "--refresh", "--detailed-exitcode").exit_code == ExitCode.OK


def test_an_update_costs_three_requests(root: Path, emulator: EmulatorHandle) -> None:
    applied(root, emulator)
    for i in range(COUNT):
        write_env(root, f"env-{i:02d}", tags={"round": "1"})
    kinds = applied(root, emulator)
    assert kinds == {"versions.get": COUNT, "versions.put": COUNT, "containers.put": COUNT}
    emulator.reset_stats()
    assert run(root, "plan", "--detailed-exitcode").exit_code == ExitCode.OK  # records say so
    assert emulator.stats().total == 1


def test_a_saved_plan_is_checked_against_the_workspace_first(root: Path, emulator: EmulatorHandle) -> None:
    """A saved plan may be old: each change re-reads its environment (and stale ones are
    refused, as the applier's own tests show); it is never applied blind."""
    assert run(root, "plan", "--out", str(root / "plan.json")).exit_code == ExitCode.OK
    emulator.reset_stats()
    result = run(root, "apply", str(root / "plan.json"), "--allow-dirty")
    assert result.exit_code == ExitCode.OK, result.output
    kinds = emulator.stats().by_kind
    assert kinds["versions.list"] == COUNT and kinds["containers.get"] >= COUNT


def test_records_give_way_to_versions_under_the_write_limit(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write bucket with room for the versions and a few records: the versions all go through
    with no 429, the records that find no token are deferred, the next plan reads those
    environments (and says nothing changed), and once the bucket refills the next apply writes
    them."""
    spare = 10  # writes left once the versions are made
    with start_emulator(tmp_path / "limited.db", arm_throttle=True, write_bucket=COUNT + spare) as limited:
        azure_config(root, limited.url)
        result = run(root, "apply", "--auto-approve")
        assert result.exit_code == ExitCode.OK, result.output
        assert limited.stats().throttled == 0
        assert f"Apply complete: {COUNT} created" in result.output
        found = re.search(r"(\d+) last-applied records? deferred", result.output)
        assert found is not None, result.output
        deferred = int(found.group(1))
        assert 1 <= deferred < COUNT  # the tokens left went to records, the rest wait
        limited.reset_stats()
        plan = run(root, "plan", "--detailed-exitcode")
        assert plan.exit_code == ExitCode.OK and f"{deferred} unchanged environment(s)" in plan.output
        assert limited.stats().by_kind["versions.list"] == deferred
        time.sleep((COUNT + spare) / 10)  # ARM's refill, 10 write tokens a second: a full bucket
        again = run(root, "apply", "--auto-approve")
        assert again.exit_code == ExitCode.OK and "deferred" not in again.output, again.output
        limited.reset_stats()
        assert run(root, "plan", "--detailed-exitcode").exit_code == ExitCode.OK
        assert "versions.list" not in limited.stats().by_kind
