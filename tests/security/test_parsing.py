"""Parsers bounded in bytes, in bytes expanded through aliases, in depth and in time: each hostile
input is a file:line error (exit 1, no traceback), and ignore patterns or globs of many `*`
finish at once instead of backtracking for hours."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import git
import pytest

from envsync.errors import ExitCode
from tests.helpers import IMAGE, commit, run, write_context
from tests.security.test_confinement import unmarked

LAUGHS = "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10) if i else ', '.join(['lol'] * 10)}]\n" for i in range(7)
)
CASES = [
    (
        "a long scalar aliased many times",
        f"s: &s '{'x' * 400_000}'\nt: [{', '.join(['*s'] * 12)}]\n",
        ":2:4: aliases expand to over 4 MiB of text",
    ),
    ("billion laughs", LAUGHS, "aliases expand to over 100,000 nodes"),
    ("500 nested [", "dependencies: " + "[" * 500 + "]" * 500 + "\n", ":1:78: nested deeper than 64 levels"),
    (
        "500 nested mappings",
        "".join(f"{' ' * i}k{i}:\n" for i in range(500)) + " " * 500 + "v: 1\n",
        "nested deeper than 64 levels",
    ),
    ("a recursive alias", "a: &a [*a]\n", ":1:4: an alias inside the node it names"),
    ("over 1 MiB", "# " + "x" * (1024 * 1024) + "\n", ":1:1: file is 1,048,577 bytes, over the 1 MiB limit"),
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "environments").mkdir(parents=True)
    (root / "environments" / "ok.yml").write_text(f"name: ok\nimage: {IMAGE}\n")
    commit(git.Repo.init(root, initial_branch="main"), "seed")
    return root


def _check(result_output: str, code: int, expected: str) -> None:
    assert code == ExitCode.ERROR, result_output
    assert expected in unmarked(result_output)
    assert "Traceback" not in result_output and "RecursionError" not in result_output


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_an_environment_yaml_past_a_bound_is_an_error_at_its_line(
    repo: Path, body: str, expected: str
) -> None:
    (repo / "environments" / "x.yml").write_text(f"name: x\nimage: {IMAGE}\n" * 0 + body)
    result = run(repo, "validate")
    _check(result.output, result.exit_code, "environments/x.yml" + (expected if expected[0] == ":" else ""))
    assert expected in unmarked(result.output)


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_an_envsync_yaml_past_a_bound_is_an_error_and_the_comment_is_still_composed(
    repo: Path, body: str, expected: str
) -> None:
    (repo / "envsync.yaml").write_text(body)
    failed = run(repo, "plan")
    _check(failed.output, failed.exit_code, "envsync.yaml")
    assert expected.split(": ", 1)[-1] in failed.output
    log = repo.parent / "plan.log"
    log.write_text(failed.stderr)
    # The action names the target (ENVSYNC_TARGET) when envsync.yaml cannot say which it is.
    comment = run(
        repo,
        "github",
        "report",
        "--command",
        "plan",
        "--body-file",
        str(repo.parent / "none.md"),
        "--exit-code",
        "1",
        "--log-file",
        str(log),
        "-t",
        "dev",
    )
    assert comment.exit_code == ExitCode.OK, comment.output
    assert "envsync plan failed for `dev`" in comment.output


@pytest.mark.parametrize(("body", "expected"), [c[1:3] for c in CASES[1:3]], ids=[c[0] for c in CASES[1:3]])
def test_a_job_yaml_past_a_bound_is_a_reference_problem(repo: Path, body: str, expected: str) -> None:
    (repo / "jobs").mkdir()
    (repo / "jobs" / "train.yml").write_text(
        "environment: azureml:ok@latest\n" + body.replace("dependencies", "x")
    )
    result = run(repo, "validate")
    _check(result.output, result.exit_code, "jobs/train.yml")


def test_a_saved_plan_nested_too_deeply_is_refused(repo: Path) -> None:
    plan = repo.parent / "plan.json"
    plan.write_text("[" * 100_000 + "]" * 100_000)
    result = run(repo, "apply", str(plan), "--auto-approve")
    _check(result.output, result.exit_code, "plan.json: not a readable plan file (nested too deeply)")


def test_a_hand_edited_record_tag_nested_too_deeply_is_ignored(repo: Path) -> None:
    from envsync.plan import last_applied
    from envsync.workspace import Container

    tag = "[" * 100_000 + "]" * 100_000
    container = Container(name="ok", latest_version="1", next_version="2", tags={last_applied.TAG: tag})
    assert last_applied.read(container) is None
    assert json.loads('{"v": 1}')  # the module's own JSON still reads


def _envsync(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own, with a deadline a regex stuck backtracking would pass
    (the time is that of an honest run many times over: it guards against a hang, it times nothing)."""
    env = {**os.environ, "ENVSYNC_NO_CACHE": "1"}
    command = [sys.executable, "-m", "envsync", "-C", str(root), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)


def test_an_ignore_pattern_of_many_stars_does_not_hang(repo: Path) -> None:
    context = write_context(repo, "ctx")
    (context / ".amlignore").write_text("*a" * 40 + "*b\n")
    (context / ("a" * 200)).write_text("x\n")
    (repo / "environments" / "ctx.yml").write_text("name: ctx\nbuild:\n  path: ctx\n")
    done = _envsync(repo, "validate")
    assert done.returncode == ExitCode.OK, done.stderr


def test_an_environments_glob_of_many_stars_does_not_hang(repo: Path) -> None:
    (repo / "envsync.yaml").write_text(
        "environments: ['environments/" + "*a" * 40 + "*b.yml', '**/**/**/**/**/x.yml']\n"
    )
    deep = repo / "environments" / "/".join(["a"] * 40)
    deep.mkdir(parents=True)
    (deep / ("a" * 200 + ".yml")).write_text(f"name: a\nimage: {IMAGE}\n")
    done = _envsync(repo, "validate")  # it ends, and says that no file matches (issue 25)
    assert done.returncode == ExitCode.ERROR, done.stderr
    assert "match no file" in done.stdout + done.stderr


def test_documents_without_aliases_are_bounded_as_the_alias_walk_bounds_them() -> None:
    from envsync.content import yamlbound

    many = "[" + ", ".join(["x"] * 100_001) + "]\n"  # no alias: the tree walk counts the nodes
    with pytest.raises(yamlbound.BoundError, match="over 100,000 nodes"):
        yamlbound.load(many)
    for text in (IMAGE_DOC, "a: [1, {b: [c, d]}]\n", "[" * 64 + "]" * 64):
        assert yamlbound.load(text) == yamlbound.load(text.replace("\n", "\n# *\n", 1) + "# *\n")


IMAGE_DOC = f"name: py\nimage: {IMAGE}\ntags: {{a: b}}\n"
