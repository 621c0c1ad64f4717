"""envsync solve --lock (conda-lock's format, read back by rattler), --lock --update, lock
files beside the YAMLs, and the solvable policy rule failing a plan."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from envsync.errors import ExitCode
from tests.helpers import run
from tests.solve.conftest import CHANNEL
from tests.solve.packages import RECORDS, write_channel
from tests.solve.test_solve_cli import CONFLICT, GOOD, write

UNPINNED = GOOD.replace("numpy=1.26", "numpy")
# rattler (pixi's lock reader, which reads conda-lock's version 1) lists a lock's packages.
READ_LOCK = """
import os, sys, rattler
env = rattler.LockFile.from_path(sys.argv[1]).default_environment()
print(sorted((p.name, str(p.version)) for p in env.packages(env.platforms()[0])))
sys.stdout.flush()
os._exit(0)
"""


def locked(path: Path) -> list[list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", READ_LOCK, str(path)], capture_output=True, text=True, check=True
    )
    return [list(p) for p in yaml.safe_load(done.stdout.replace("(", "[").replace(")", "]"))]


def test_lock_writes_a_conda_lock_file_that_rattler_reads(repo: Path) -> None:
    write(repo, "good", GOOD)
    write(repo, "clash", CONFLICT)
    result = run(repo, "solve", "--lock")
    assert result.exit_code == ExitCode.ERROR  # clash is unsolvable: no lock for it
    assert result.stdout.endswith("1 lock file written\n  environments/good.conda-lock.yml\n")
    lock = repo / "environments" / "good.conda-lock.yml"
    assert locked(lock) == [
        ["numpy", "1.26.4"],
        ["pip", "24.0"],
        ["python", "3.11.9"],
        ["tinyapp", "1.0"],
        ["tinyreq", "2.0"],
    ]
    doc = yaml.safe_load(lock.read_text())
    assert doc["metadata"]["platforms"] == ["linux-64"] and doc["metadata"]["sources"] == ["good.yml"]
    pip = next(p for p in doc["package"] if p["name"] == "tinyapp")
    assert pip["manager"] == "pip" and pip["url"].endswith("/packages/tinyapp-1.0-py3-none-any.whl")
    assert len(pip["hash"]["sha256"]) == 64
    assert not (repo / "environments" / "clash.conda-lock.yml").exists()


def test_a_current_lock_is_kept_and_update_resolves_to_the_newest(repo: Path, channels: Path) -> None:
    write(repo, "good", UNPINNED)
    assert run(repo, "solve", "--lock").exit_code == ExitCode.OK
    lock = repo / "environments" / "good.conda-lock.yml"
    assert ["numpy", "2.0.0"] in locked(lock)
    newer = ("linux-64", "numpy", "2.1.0", "py311_0", ["python >=3.11,<3.12"])
    write_channel(channels / CHANNEL, (*RECORDS, newer))
    try:
        again = run(repo, "solve", "--lock")
        assert again.stdout.endswith("0 lock files written\n") and ["numpy", "2.0.0"] in locked(lock)
        updated = run(repo, "solve", "--lock", "--update")
        assert updated.exit_code == ExitCode.OK, updated.output
        assert "numpy 2.1.0" in updated.stdout and ["numpy", "2.1.0"] in locked(lock)
    finally:
        write_channel(channels / CHANNEL)


def test_lock_files_are_not_environments(repo: Path) -> None:
    write(repo, "good", GOOD)
    run(repo, "solve", "--lock")
    result = run(repo, "validate")
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout.endswith("1 environment valid\n")


def test_the_solvable_rule_fails_a_plan_at_the_pin(repo: Path) -> None:
    write(repo, "good", GOOD)
    write(repo, "clash", CONFLICT)
    assert run(repo, "plan").exit_code == ExitCode.OK  # off by default: no solve
    assert not (repo / ".envsync" / "solve").exists()
    config = repo / "envsync.yaml"
    config.write_text(config.read_text() + "policy:\n  rules: {solvable: error}\n")
    result = run(repo, "plan", "--format", "json")
    assert result.exit_code == ExitCode.ERROR
    (problem,) = json.loads(result.stdout)["problems"]
    assert (problem["path"], problem["line"], problem["col"], problem["rule"]) == (
        "environments/clash.yml",
        6,
        7,
        "solvable",
    )
    assert problem["message"].startswith("clash: python=3.10 and numpy=2.0 cannot be installed together")
    github = run(repo, "plan", "--format", "github")
    assert "::error file=environments/clash.yml,line=6,col=7,title=envsync plan::" in github.stderr


def test_the_solvable_rule_honours_a_suppression_comment(repo: Path) -> None:
    comment = "  # envsync: allow solvable -- waiting for the 2.0 build"
    suppressed = CONFLICT.replace("    - python=3.10\n", f"    - python=3.10{comment}\n")
    write(repo, "clash", suppressed)
    config = repo / "envsync.yaml"
    config.write_text(config.read_text() + "policy:\n  rules: {solvable: error}\n")
    result = run(repo, "plan", "--format", "json")
    assert result.exit_code == ExitCode.OK, result.output
    assert json.loads(result.stdout)["suppressed"][0]["reason"] == "waiting for the 2.0 build"


def test_a_symlinked_lock_is_replaced_not_written_through(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "precious.txt"
    outside.write_text("keep me\n")
    write(repo, "good", GOOD)
    lock = repo / "environments" / "good.conda-lock.yml"
    lock.symlink_to(outside)
    assert run(repo, "solve", "--lock").exit_code == ExitCode.OK
    assert outside.read_text() == "keep me\n"
    assert not lock.is_symlink() and ["tinyapp", "1.0"] in locked(lock)
