"""Run the envsync action's main step as a GitHub runner would: its `run:` line from action.yml,
with bash, in a checkout, with the variables a runner sets and the step's `env:` filled in from
the action's inputs. The GitHub API is the fake one on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from tests.fake_github import REPO, TOKEN, FakeGitHub
from tests.test_workflows import ACTION, ROOT, load

BIN = Path(sys.executable).parent
SERVER = "https://github.com"
RUN_ID = "4242"


def step(step_id: str) -> dict[str, Any]:
    return dict(next(s for s in load(ACTION)["runs"]["steps"] if s.get("id") == step_id))


@dataclass(frozen=True)
class ActionRun:
    returncode: int  # the step's: non-zero only when reporting itself failed
    outputs: dict[str, str]
    stdout: str  # the job log
    stderr: str
    summary: str  # what went to GITHUB_STEP_SUMMARY

    @property
    def job_failed(self) -> bool:
        """What the action's last step decides: `!contains(["0", "2"], exit-code)`."""
        return self.returncode != 0 or self.outputs.get("exit-code") not in ("0", "2")


def run_action(
    checkout: Path,
    api: FakeGitHub,
    *,
    command: str,
    args: str = "",
    target: str = "",
    comment: str = "true",
    self_heal: str = "false",
    artifact_name: str = "",
    comment_author: str = "",
    pr: int | None = None,
    event: dict[str, Any] | None = None,
    sha: str | None = None,
    token: str = TOKEN,
    working_directory: str = ".",
) -> ActionRun:
    runner = checkout.parent / "runner"
    runner.mkdir(exist_ok=True)
    outputs, summary = runner / "output", runner / "summary"
    outputs.write_text("")
    summary.write_text("")
    payload = runner / "event.json"
    payload.write_text(json.dumps(event or ({"pull_request": {"number": pr}} if pr else {})))
    inputs = {
        "COMMAND": command,
        "ARGS": args,
        "ENVSYNC_TARGET": target,
        "COMMENT": comment,
        "SELF_HEAL": self_heal,
        "ARTIFACT": artifact_name,
        "PR_NUMBER": str(pr or ""),
        "GITHUB_TOKEN": token,
        "ENVSYNC_GITHUB_AUTHOR": comment_author,
    }
    main = step("run")
    assert set(main["env"]) == set(inputs), "the harness fills in every variable the step declares"
    runner_env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(runner),
        "GITHUB_WORKSPACE": str(checkout),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": api.url,
        "GITHUB_SERVER_URL": SERVER,
        "GITHUB_RUN_ID": RUN_ID,
        "GITHUB_EVENT_NAME": "pull_request" if pr else "schedule",
        "GITHUB_EVENT_PATH": str(payload),
        "GITHUB_SHA": sha or git.Repo(checkout).head.commit.hexsha,  # the commit checked out
    }
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ENVSYNC_", "RUNNER_"))}
    script = runner / "step.sh"
    script.write_text(str(main["run"]))
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],  # a runner's `shell: bash`
        cwd=checkout / working_directory,
        env={**base, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **runner_env, **inputs},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    found = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return ActionRun(done.returncode, found, done.stdout, done.stderr, summary.read_text())
