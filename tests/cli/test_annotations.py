"""GitHub annotations: `validate` and `plan` report problems as workflow commands in GitHub
Actions (or with --format github), at file, line and column, errors and warnings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envsync.errors import ExitCode
from envsync.gitops import actions
from envsync.spec.problems import Problem, Severity
from tests.helpers import run, write_env

ACTIONS = {"GITHUB_ACTIONS": "true"}
TAB = "image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1\n"


def _bad(root: Path) -> None:
    (root / "environments").mkdir(parents=True, exist_ok=True)
    (root / "environments" / "bad.yml").write_text("name: bad\nimage: 3\n")
    (root / "environments" / "warn.yml").write_text("name: warn\n" + TAB + "tags:\n  hpcx: 2.10\n")


ERROR = (
    "::error file=environments/bad.yml,line=2,col=8,title=envsync validate::"
    "environments/bad.yml:2:8: image must be a string, not an integer"
)
WARNING = (
    "::warning file=environments/warn.yml,line=4,col=9,title=envsync validate::environments/warn.yml:4:9: "
    "tag 'hpcx' is a number (2.1), kept as its source text '2.10': quote it"
)


def test_validate_in_github_actions_annotates_errors_and_warnings(tmp_path: Path) -> None:
    _bad(tmp_path)
    result = run(tmp_path, "validate", env=ACTIONS)
    assert result.exit_code == ExitCode.ERROR
    assert result.output.splitlines() == [ERROR, WARNING, "1 error, 1 warning in 2 files"]


def test_validate_format_github_outside_actions_and_text_inside(tmp_path: Path) -> None:
    _bad(tmp_path)
    assert run(tmp_path, "validate", "--format", "github").output.splitlines()[:2] == [ERROR, WARNING]
    text = run(tmp_path, "validate", "--format", "text", env=ACTIONS).output.splitlines()
    assert text[0].startswith("environments/bad.yml:2:8: error: image must be a string")
    assert json.loads(run(tmp_path, "validate", "--format", "json", env=ACTIONS).output)["errors"] == 1


def test_plan_annotates_on_stderr_keeping_stdout_clean(tmp_path: Path) -> None:
    _bad(tmp_path)
    result = run(tmp_path, "plan", "--format", "markdown", env=ACTIONS)
    assert result.exit_code == ExitCode.ERROR and result.stdout == ""
    assert result.stderr.splitlines() == [
        ERROR.replace("envsync validate", "envsync plan"),
        WARNING.replace("envsync validate", "envsync plan"),
        "error: 1 problem in environment files; nothing planned",
    ]


def test_plan_errors_are_annotated_at_the_environments_name(tmp_path: Path) -> None:
    write_env(tmp_path, "base-cpu", version="1")
    assert run(tmp_path, "apply", "--auto-approve").exit_code == ExitCode.OK
    write_env(tmp_path, "base-cpu", version="1", image="mcr.microsoft.com/azureml/changed:1")
    result = run(tmp_path, "plan", "--format", "github")
    assert result.exit_code == ExitCode.ERROR
    [line] = result.stderr.splitlines()
    assert line.startswith(
        "::error file=environments/base-cpu.yml,line=1,col=1,title=envsync plan::"
        "environments/base-cpu.yml:1:1: base-cpu:1: version 1 already exists with different image"
    )
    assert "! base-cpu:1  (error)" in result.stdout  # --format github prints the plan as text


def test_paths_are_relative_to_the_checkout_in_a_subfolder(tmp_path: Path) -> None:
    _bad(tmp_path / "infra")
    env = {**ACTIONS, "GITHUB_WORKSPACE": str(tmp_path)}
    out = run(tmp_path / "infra", "validate", env=env).output
    assert out.startswith(
        "::error file=infra/environments/bad.yml,line=2,col=8,title=envsync validate::infra/"
    )


@pytest.mark.parametrize(
    ("problem", "line"),
    [
        (
            Problem("a,b:c.yml", 3, 4, "50% done\nnext"),
            "::error file=a%2Cb%3Ac.yml,line=3,col=4,title=t%3A x::a,b:c.yml:3:4: 50%25 done%0Anext",
        ),
        (
            Problem("w.yml", 1, 1, "careful", Severity.WARNING),
            "::warning file=w.yml,line=1,col=1,title=t%3A x::w.yml:1:1: careful",
        ),
    ],
)
def test_annotation_escapes_like_the_runner_unescapes(problem: Problem, line: str) -> None:
    assert actions.annotation(problem, title="t: x") == line
    back = actions.parse(line)
    assert back is not None and back.file == problem.path and back.line == problem.line
    rule = f" [{problem.rule}]" if problem.rule else ""
    assert back.message == f"{problem.path}:{problem.line}:{problem.col}: {problem.message}{rule}"
    assert actions.parse("environments/a.yml:1:1: plain") is None
