"""Self-heal in CI: the action's own shell steps, run with bash as a GitHub runner runs them,
against a local workspace drifted by hand and a fake GitHub API on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from envsync.errors import ExitCode
from envsync.workspace import VersionBody
from envsync.workspace.local.workspace import LocalWorkspace
from tests.fake_github import REPO, TOKEN, FakeGitHub, serve
from tests.helpers import commit, run, sample_repo
from tests.test_workflows import ACTION, load

BIN = Path(sys.executable).parent


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


def step(name_or_id: str) -> str:
    found = next(s for s in load(ACTION)["runs"]["steps"] if name_or_id in (s.get("id"), s.get("name")))
    return str(found["run"])


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """As a runner runs a `shell: bash` step: bash --noprofile --norc -eo pipefail {0}."""
    assert (BIN / "envsync").exists(), "envsync must be installed in the test's environment"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ENVSYNC_", "RUNNER_"))}
    path = {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    script_file = cwd.parent / "step.sh"
    script_file.write_text(script)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
        cwd=cwd,
        env={**base, **path, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def drift_job(repo: Path, api: FakeGitHub, *, self_heal: bool) -> dict[str, str]:
    """The action's run step, then its issue step when the action's `if:` would run it."""
    runner = repo.parent / "runner"
    runner.mkdir(exist_ok=True)
    outputs, summary = runner / "output", runner / "summary"
    outputs.write_text("")
    env = {
        "COMMAND": "drift",
        "ARGS": "",
        "ENVSYNC_TARGET": "",
        "SELF_HEAL": "true" if self_heal else "false",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(runner),
    }
    ran = bash(step("run"), repo, env)
    assert ran.returncode == 0, ran.stderr
    out = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    if out["exit-code"] in ("0", "2") or out.get("heal") == "failed":
        issue_env = {
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": api.url,
            "ENVSYNC_TARGET": "",
            "CODE": out["exit-code"],
            "REPORT": out.get("report-path", ""),
            "HEAL": out.get("heal", ""),
            "RUNNER_TEMP": str(runner),
        }
        issued = bash(step("Open, update or close the drift issue"), repo, issue_env)
        assert issued.returncode == 0, issued.stderr + issued.stdout
    out["log"] = ran.stdout
    return out


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
    closing = api.comments[issue["number"]][-1]["body"]
    assert closing.endswith("\nSelf-heal repaired every finding; envsync drift is clean.\n")
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
