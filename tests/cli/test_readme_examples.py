"""The outputs README.md and the getting-started page show are real: the same edits made to the
example environments in a git repository, the same commands run, the same text out."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import git
import pytest

from tests.docs_pages import README, ROOT, page
from tests.helpers import commit, run

XGBOOST = """\
name: xgboost-cpu
image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1
conda_file:
  name: xgboost
  channels: [conda-forge]
  dependencies: [python=3.11, pip, {pip: [xgboost==2.1.0]}]
tags:
  framework: xgboost
"""
PAGES = {"README.md": README, "getting-started.md": page("getting-started.md")}


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """The example environments committed and applied, then edited as the pages say."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "environments", root / "environments")
    (root / ".gitignore").write_text(".envsync/\n")
    repo = git.Repo.init(root, initial_branch="main")
    commit(repo, "examples")
    assert run(root, "apply", "--auto-approve").exit_code == 0
    _replace(root / "environments" / "lightgbm-cpu.yml", "lightgbm==4.3.0", "lightgbm==4.5.0")
    _replace(root / "environments" / "minimal-cpu.yml", "owner: platform-team", "owner: ml-platform")
    (root / "environments" / "xgboost-cpu.yml").write_text(XGBOOST)
    return root


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _shown(text: str, command: str) -> list[str]:
    """Every fenced block of `text` that starts with `$ COMMAND`: what it says comes out."""
    return re.findall(r"^```\n\$ " + re.escape(command) + r"\n(.*?)^```", text, re.S | re.M)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_plan_shown_is_the_plan_made(examples: Path, name: str) -> None:
    [shown] = _shown(PAGES[name], "envsync plan")
    result = run(examples, "plan", env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert result.stdout == shown


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_pinned_version_error_shown_is_the_one_made(examples: Path, name: str) -> None:
    shown = re.search(r"^```\n(! sklearn-cpu:3 .*?)^```", PAGES[name], re.S | re.M)
    assert shown is not None
    _replace(examples / "environments" / "sklearn-cpu" / "conda.yml", "pandas==2.2.2", "pandas==2.2.3")
    result = run(examples, "plan", env={"NO_COLOR": "1"})
    assert result.exit_code == 1
    assert shown.group(1) in result.stdout


def _tour(text: str) -> list[str]:
    section = text.split("## A 60-second tour", 1)[1]
    [block] = re.findall(r"^```sh\n(.*?)^```", section, re.S | re.M)[:1]
    return block.splitlines()


def _expectations(comment: str) -> tuple[list[str], int]:
    """`# TEXT ... TEXT exit N`: the fragments the output holds, in order, and the exit code."""
    code = re.search(r"\s*\bexit (\d+)$", comment)
    fragments = comment[: code.start()] if code else comment
    return [f.strip() for f in fragments.split("...") if f.strip()], int(code.group(1)) if code else 0


def test_the_tour_is_the_same_on_both_pages() -> None:
    assert _tour(README) == _tour(page("getting-started.md"))


def test_the_tour_says_what_each_command_prints(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "environments", root / "environments")
    (root / ".gitignore").write_text(".envsync/\n")
    commit(git.Repo.init(root, initial_branch="main"), "examples")
    assert run(root, "apply", "--auto-approve").exit_code == 0  # the first set-up command
    for line in _tour(README):
        command, _, comment = line.partition("  # ")
        argv = shlex.split(command)
        if argv[0] != ".venv/bin/envsync":  # sed and git, as a reader runs them
            subprocess.run(argv, cwd=root, check=True, capture_output=True)
            continue
        result = run(root, *argv[1:], env={"NO_COLOR": "1"})
        fragments, code = _expectations(comment.strip())
        assert result.exit_code == code, (line, result.output)
        at = 0
        for fragment in fragments:
            at = result.output.find(fragment, at)
            assert at >= 0, (line, fragment, result.output)
