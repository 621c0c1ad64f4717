"""Self-heal in CI: the action's own shell steps, run with bash as a GitHub runner runs them,
against a local workspace drifted by hand and a fake GitHub API on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from envsync.errors import ExitCode
from envsync.workspace import VersionBody
from envsync.workspace.local.workspace import LocalWorkspace
from tests.action_runner import run_action
from tests.fake_github import FakeGitHub, serve
from tests.helpers import commit, run, sample_repo


@pytest.fixture
def api() -> Iterator[FakeGitHub]:
    with serve() as state:
        yield state


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = sample_repo(tmp_path / "repo")
    (root / ".gitignore").write_text(".envsync/\n")
    commit(git.Repo.init(root, initial_branch="main"), "seed")
    assert run(root, "apply", "--auto-approve").exit_code == ExitCode.OK
    return root


def drift_job(repo: Path, api: FakeGitHub, *, self_heal: bool) -> dict[str, str]:
    """The action's main step (which also opens, updates or closes the issue)."""
    done = run_action(repo, api, command="drift", self_heal="true" if self_heal else "false")
    assert done.returncode == 0, done.stderr
    return {**done.outputs, "log": done.stdout}


def hand_edit(repo: Path) -> LocalWorkspace:
    ws = LocalWorkspace(repo / ".envsync" / "workspace.db")
    ws.update_version("base-cpu", "1", description="edited in the studio", tags={"team": "ml"})
    ws.set_archived("sklearn", "1", True)
    return ws


def test_drift_is_healed_and_the_closed_issue_records_what(repo: Path, api: FakeGitHub) -> None:
    hand_edit(repo)
    out = drift_job(repo, api, self_heal=True)
    assert (out["exit-code"], out["heal"]) == ("0", "healed")
    assert "sklearn:1: restored" in out["log"] and "base-cpu:1: updated" in out["log"]
    [issue] = api.issues.values()
    assert issue["state"] == "closed"
    body = issue["body"]
    assert "**No drift: local matches git.**" in body
    assert "Self-heal: `envsync apply --refresh --auto-approve` exited 0" in body
    assert "| `sklearn` | 1 | archived | yes | archived while git defines it" in body  # before
    assert "Apply complete: 0 created, 0 new versions, 1 updated, 1 restored, 0 failed." in body
    assert api.comments[issue["number"]][-1]["body"].endswith(
        "-->\nSelf-heal repaired every finding; envsync drift is clean.\n"
    )
    assert run(repo, "drift").exit_code == ExitCode.OK


def test_report_only_findings_keep_the_issue_open_after_healing(repo: Path, api: FakeGitHub) -> None:
    hand_edit(repo).create_version("base-cpu", "2", VersionBody(image="mcr.microsoft.com/azureml/by-hand:1"))
    out = drift_job(repo, api, self_heal=True)
    assert (out["exit-code"], out["heal"]) == ("2", "healed")
    [issue] = api.issues.values()
    assert issue["state"] == "open"
    now, _, healed = issue["body"].partition("#### Self-heal")
    assert "| `base-cpu` | 2 | unmanaged_version | no |" in now and "archived |" not in now
    assert "Nothing here is healable by apply" in now
    assert "sklearn:1: restored" in healed


def test_without_the_variable_drift_is_only_reported(repo: Path, api: FakeGitHub) -> None:
    hand_edit(repo)
    out = drift_job(repo, api, self_heal=False)
    assert (out["exit-code"], out.get("heal")) == ("2", None)
    [issue] = api.issues.values()
    assert issue["state"] == "open" and "Self-heal" not in issue["body"]
    assert "To heal the 2 healable finding(s): `envsync apply --refresh -t local`" in issue["body"]
    assert run(repo, "drift").exit_code == ExitCode.CHANGES  # nothing was applied


def test_a_failed_heal_fails_the_job_and_the_issue_shows_why(repo: Path, api: FakeGitHub) -> None:
    hand_edit(repo)
    (repo / "environments" / "sklearn.yml").write_text(
        (repo / "environments" / "sklearn.yml").read_text() + "# uncommitted\n"
    )
    out = drift_job(repo, api, self_heal=True)
    assert (out["exit-code"], out["heal"]) == ("1", "failed")
    [issue] = api.issues.values()
    assert issue["state"] == "open"
    assert "exited 1" in issue["body"] and "the working tree has uncommitted changes" in issue["body"]
