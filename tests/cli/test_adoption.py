"""Issue 25's repros end to end, through the real CLI in a real git repository, each against
the local workspace and against the emulator (REST)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from envsync.cli import cli
from envsync.errors import ExitCode
from tests.cli.adoption_fixtures import Setup, setup
from tests.helpers import IMAGE, run, write_env
from tests.workspace import emulator_fixtures

emulator = emulator_fixtures.emulator  # the session's emulator: a workspace of its own per test
__all__ = ["setup"]


# -- 6: names and versions the service would refuse are errors at file:line -----------------


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1-<VERSION>", "holds an unsubstituted template placeholder"),
        ("../x", "is not a valid version"),
        ("a#b", "is not a valid version"),
        ("v 1", "is not a valid version"),
        ("latest", "is reserved"),
        ("3\n", "is not a valid version"),
    ],
)
def test_versions_the_service_refuses_are_errors_and_nothing_is_made(
    setup: Setup, version: str, message: str
) -> None:
    write_env(setup.root, "team-sklearn", version=version)
    setup.commit()
    for command in (("validate",), ("plan",), ("apply", "--auto-approve")):
        result = setup.envsync(*command)
        assert result.exit_code == ExitCode.ERROR, result.output
        assert "environments/team-sklearn.yml:2:10: version " in result.output
        assert message in result.output
    space = setup.workspace()
    try:
        assert space.get_environment("team-sklearn") is None
    finally:
        space.close()


def test_a_name_with_a_trailing_newline_is_an_error(setup: Setup) -> None:
    (setup.root / "environments").mkdir()
    (setup.root / "environments" / "e.yml").write_text(f'name: "e\\n"\nimage: {IMAGE}\n')
    setup.commit()
    result = setup.envsync("plan")
    assert result.exit_code == ExitCode.ERROR
    assert "environments/e.yml:1:7: name 'e\\n' is not a valid environment name" in result.output


# -- 3: a git repository is required for plan, apply and drift --------------------------------


@pytest.mark.parametrize("command", [("plan",), ("apply", "--auto-approve"), ("drift",)])
def test_outside_git_plan_apply_and_drift_refuse_and_write_nothing(
    setup: Setup, tmp_path: Path, command: tuple[str, ...]
) -> None:
    scratch = tmp_path / "scratch"
    write_env(scratch, "someone-elses")
    shutil.copy(setup.root / "envsync.yaml", scratch / "envsync.yaml")
    result = run(scratch, *command)
    assert result.exit_code == ExitCode.ERROR, result.output
    assert result.output.strip().splitlines()[-1] == (
        f"error: {scratch} is not inside a git repository: envsync plans what git defines; run it in "
        "one (git init), or pass --no-git (ENVSYNC_NO_GIT=1) to plan a plain folder"
    )
    assert sorted(p.name for p in scratch.iterdir()) == ["environments", "envsync.yaml"]
    space = setup.workspace()
    try:
        assert space.get_environment("someone-elses") is None
    finally:
        space.close()


def test_outside_git_the_opt_out_plans_a_plain_folder(setup: Setup, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    write_env(scratch, "mine")
    shutil.copy(setup.root / "envsync.yaml", scratch / "envsync.yaml")
    result = run(scratch, "--no-git", "plan")
    assert result.exit_code == ExitCode.OK, result.output
    assert "+ mine:1  (new environment)" in result.output


def test_a_missing_dash_c_folder_is_an_error_and_is_not_made(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    result = CliRunner().invoke(cli, ["-C", str(missing), "plan"])
    assert result.exit_code == ExitCode.ERROR
    assert "does not exist" in result.output
    assert not missing.exists()


# -- 8: -C DIR takes every relative path option from DIR --------------------------------------


def test_dash_c_resolves_relative_paths_against_its_folder(
    setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.by_hand("team-sklearn", "1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    repo = str(setup.root)
    invoke = lambda *a: CliRunner().invoke(cli, ["-C", repo, *a])  # noqa: E731
    imported = invoke("import", "--out", "environments")
    assert imported.exit_code == ExitCode.OK, imported.output
    assert (setup.root / "environments" / "team-sklearn.yml").is_file()
    setup.commit("imported")
    planned = invoke("plan", "--out", "plan.json", "--report-dir", "reports")
    assert planned.exit_code == ExitCode.OK, planned.output
    assert (setup.root / "plan.json").is_file() and (setup.root / "reports" / "plan.txt").is_file()
    assert invoke("validate", "environments/team-sklearn.yml").exit_code == ExitCode.OK
    assert invoke("drift", "--report-dir", "reports").exit_code == ExitCode.OK
    assert (setup.root / "reports" / "drift.txt").is_file()
    applied = invoke("apply", "plan.json")
    assert applied.exit_code == ExitCode.OK, applied.output
    assert list(elsewhere.iterdir()) == []
