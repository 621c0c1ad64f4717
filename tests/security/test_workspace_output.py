"""A workspace user's hand-written tags and descriptions, printed by drift, list and show into a
terminal, a CI log, the drift issue and the failure comment: nothing in them acts.

End to end through the CLI, on the local workspace's real SQLite file."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from envsync.errors import ExitCode
from envsync.workspace.local.workspace import LocalWorkspace
from tests.helpers import run
from tests.security import hostile


@pytest.fixture
def edited(git_sample: git.Repo) -> Path:
    """The sample applied, then base-cpu:1's tags and description edited with every hostile value."""
    root = Path(git_sample.working_dir)
    assert run(root, "apply", "--auto-approve").exit_code == ExitCode.OK
    ws = LocalWorkspace(root / ".envsync" / "workspace.db")
    tags = {f"k{i}{value}": value for i, value in enumerate(hostile.VALUES)}
    ws.update_version("base-cpu", "1", description="".join(hostile.VALUES), tags=tags)
    ws.close()
    return root


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("drift",), ExitCode.CHANGES),
        (("drift", "--format", "json"), ExitCode.CHANGES),
        (("list",), ExitCode.OK),
        (("list", "--name", "base-cpu", "--format", "json"), ExitCode.OK),
        (("show", "base-cpu:1"), ExitCode.OK),
        (("show", "base-cpu:1", "--format", "json"), ExitCode.OK),
        (("plan", "--refresh"), ExitCode.OK),
    ],
)
def test_terminal_output_carries_no_control_or_workflow_command(
    edited: Path, args: tuple[str, ...], code: int
) -> None:
    result = run(edited, *args)
    assert result.exit_code == code, result.output
    hostile.assert_terminal_safe(result.output)


def test_drift_shows_the_values_escaped(edited: Path) -> None:
    out = run(edited, "drift").output
    assert "::warning::injected" in out and "ok\\n::warning::injected" in out  # visible, inert
    assert "\\x1b]8;;https://evil.invalid\\x07click" in out


def test_drift_issue_body_renders_no_html_from_the_workspace(edited: Path, tmp_path: Path) -> None:
    result = run(edited, "drift", "--format", "markdown")
    assert result.exit_code == ExitCode.CHANGES
    hostile.assert_markdown_safe(result.output)
    body = tmp_path / "drift.md"
    body.write_text(result.output)
    report = run(
        edited, "github", "report", "--command", "drift", "--body-file", str(body), "--exit-code", "2"
    )
    assert report.exit_code == ExitCode.OK, report.output
    hostile.assert_markdown_safe(report.output)
    assert "&lt;ins&gt;HTML&lt;/ins&gt;" in hostile.rendered(report.output)  # shown as text


def test_report_files_for_the_artifact_are_escaped_too(edited: Path, tmp_path: Path) -> None:
    run(edited, "drift", "--report-dir", str(tmp_path / "out"))
    hostile.assert_terminal_safe((tmp_path / "out" / "drift.txt").read_text())
    hostile.assert_markdown_safe((tmp_path / "out" / "drift.md").read_text())
