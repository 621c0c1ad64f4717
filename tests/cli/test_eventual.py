"""Lists that lag writes (the service's are eventually consistent): right after an apply, a plan
shows no false change and a second apply makes no duplicate version. The emulator runs with
`--realism` and a lag no test outlives, so every list is as it was before the test's writes,
while a GET of one container or version is current."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import ExitCode
from tests.cli.conftest import TOKEN, azure_config
from tests.cli.test_apply_azure import assert_no_duplicate_versions, versions_by_env
from tests.helpers import run, sample_repo, write_env

FOREVER_MS = 3_600_000  # an hour: lists never catch up during a test


@pytest.fixture
def lagging(tmp_path: Path) -> Iterator[EmulatorHandle]:
    with start_emulator(
        tmp_path / "emulator.db", isolate=False, realism=True, list_lag_ms=FOREVER_MS
    ) as handle:
        yield handle


@pytest.fixture
def repo(tmp_path: Path, lagging: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = sample_repo(tmp_path / "repo")
    azure_config(root, lagging.url)
    monkeypatch.setenv("ENVSYNC_ARM_TOKEN", TOKEN)
    return root


def _apply(root: Path) -> str:
    applied = run(root, "apply", "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.output
    return applied.output


def _no_changes(root: Path, *args: str) -> None:
    planned = run(root, "plan", "--detailed-exitcode", *args)
    assert planned.exit_code == ExitCode.OK, planned.output
    assert "No changes." in planned.output


def test_plan_right_after_apply_shows_no_change(repo: Path, lagging: EmulatorHandle, tmp_path: Path) -> None:
    assert "Apply complete: 3 created" in _apply(repo)
    _no_changes(repo)  # the listing still shows none of the three: each is read by itself
    _no_changes(repo, "--refresh")


def test_two_applies_back_to_back_make_no_duplicate(
    repo: Path, lagging: EmulatorHandle, tmp_path: Path
) -> None:
    _apply(repo)
    assert "No changes." in _apply(repo)
    write_env(repo, "sklearn", image="mcr.microsoft.com/azureml/other:2")  # a new version, auto-numbered
    assert "Apply complete: 0 created, 1 new version" in _apply(repo)
    assert "No changes." in _apply(repo)  # right after: the version list still lacks it
    _no_changes(repo)
    db = tmp_path / "emulator.db"
    assert_no_duplicate_versions(db)
    assert [len(v) for _, v in sorted(versions_by_env(db).items())] == [1, 2, 1]  # base-cpu, sklearn, torch


def test_an_explicit_version_bump_right_after_an_apply(
    repo: Path, lagging: EmulatorHandle, tmp_path: Path
) -> None:
    _apply(repo)
    write_env(repo, "base-cpu", version="2", description="Base image", tags={"team": "ml"}, image="other:1")
    assert "Apply complete: 0 created, 1 new version" in _apply(repo)
    assert "No changes." in _apply(repo)
    _no_changes(repo)
    assert_no_duplicate_versions(tmp_path / "emulator.db")


def test_once_lists_catch_up_nothing_changes_either(repo: Path, lagging: EmulatorHandle) -> None:
    _apply(repo)
    lagging.settle(FOREVER_MS / 1000)
    _no_changes(repo)
    _no_changes(repo, "--refresh")


def test_many_environments_right_after_an_apply(
    tmp_path: Path, lagging: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More than a sample's worth: the first GETs show the listing lagging, so all are read."""
    root = tmp_path / "many"
    for i in range(20):
        write_env(root, f"env-{i:02d}", tags={"i": str(i)})
    azure_config(root, lagging.url)
    monkeypatch.setenv("ENVSYNC_ARM_TOKEN", TOKEN)
    assert "Apply complete: 20 created" in _apply(root)
    _no_changes(root)
    write_env(root, "env-13", image="mcr.microsoft.com/azureml/other:3")
    assert "Apply complete: 0 created, 1 new version" in _apply(root)
    _no_changes(root)
    assert_no_duplicate_versions(tmp_path / "emulator.db")


def test_a_plan_of_many_new_environments_costs_one_round_of_gets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without lag, a sample of the names the listing lacks agrees with it: no GET for the rest."""
    root = tmp_path / "fresh"
    for i in range(30):
        write_env(root, f"env-{i:02d}")
    with start_emulator(tmp_path / "emulator.db", isolate=False) as emulator:
        azure_config(root, emulator.url)
        monkeypatch.setenv("ENVSYNC_ARM_TOKEN", TOKEN)
        planned = run(root, "plan")
        assert "Plan: 0 orphans, 30 to create" in planned.output, planned.output
        assert emulator.stats().by_kind == {"containers.list": 1, "containers.get": 8}  # concurrency 8
