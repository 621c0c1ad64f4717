"""A pull request's YAMLs carry hostile versions, descriptions, tags and file names into the plan
text (the job log), the plan comment, annotations and the failure comment: nothing in them acts,
and tags holding control characters are refused at their line."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from envsync.errors import ExitCode
from tests.helpers import commit, run, write_env
from tests.security import hostile

DESCRIPTION = "".join(hostile.VALUES)


@pytest.fixture
def hostile_repo(git_sample: git.Repo) -> Path:
    root = Path(git_sample.working_dir)
    # A hostile version is refused before any output (names and versions are the service's own).
    write_env(root, "base-cpu", version="1", description=DESCRIPTION, tags={"team": "`x`|<b>y</b>"})
    commit(git_sample, "hostile values")
    return root


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_plan_output_is_safe_in_every_format(hostile_repo: Path, fmt: str) -> None:
    result = run(hostile_repo, "plan", "--format", fmt)
    assert result.exit_code == ExitCode.OK, result.output
    hostile.assert_terminal_safe(result.output)
    if fmt == "markdown":
        hostile.assert_markdown_safe(result.output)  # the description's HTML, in its diff block


def test_the_plan_comment_posted_is_safe(hostile_repo: Path, tmp_path: Path) -> None:
    plan_md = tmp_path / "plan.md"
    plan_md.write_text(run(hostile_repo, "plan", "--format", "markdown").output)
    posted = run(hostile_repo, "github", "report", "--command", "plan", "--body-file", str(plan_md))
    assert posted.exit_code == ExitCode.OK
    hostile.assert_markdown_safe(posted.output)


@pytest.mark.parametrize(
    ("key", "value"), [("team", hostile.WORKFLOW_COMMAND), (hostile.MASK, "v"), ("t", "a\tb")]
)
def test_a_tag_with_a_control_character_is_an_error_at_its_line(
    git_sample: git.Repo, key: str, value: str
) -> None:
    root = Path(git_sample.working_dir)
    path = write_env(root, "base-cpu", version="1", tags={key: value})
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("  "))
    result = run(root, "validate")
    assert result.exit_code == ExitCode.ERROR
    assert f"environments/base-cpu.yml:{line}:" in result.output
    assert "control character or line break" in result.output
    hostile.assert_terminal_safe(result.output)


def test_annotations_and_the_failure_comment_stay_safe(git_sample: git.Repo, tmp_path: Path) -> None:
    root = Path(git_sample.working_dir)
    write_env(root, "base-cpu", version="1", tags={hostile.HTML + hostile.WORKFLOW_COMMAND: "v"})
    annotated = run(root, "validate", "--format", "github")
    assert annotated.exit_code == ExitCode.ERROR
    hostile.assert_terminal_safe(annotated.output, annotations=True)
    failed = run(root, "plan")
    assert failed.exit_code == ExitCode.ERROR
    hostile.assert_terminal_safe(failed.output)
    log = tmp_path / "plan.log"
    log.write_text(failed.stderr)
    comment = run(
        root,
        "github",
        "report",
        "--command",
        "plan",
        "--body-file",
        str(tmp_path / "none.md"),
        "--exit-code",
        "1",
        "--log-file",
        str(log),
    )
    assert comment.exit_code == ExitCode.OK, comment.output
    hostile.assert_markdown_safe(comment.output)
    assert "environments/base-cpu.yml:" in comment.output
