"""5. The plan names the pull request's head commit, not the merge commit actions/checkout makes."""

from __future__ import annotations

import json
from pathlib import Path

import git

from tests.helpers import commit, run, write_env


def _pull_request(root: Path) -> tuple[git.Repo, str, str]:
    """main, a feature branch (the PR's head), and GitHub's merge commit of the two, checked out."""
    repo = git.Repo.init(root, initial_branch="main")
    (root / ".gitignore").write_text(".envsync/\n")
    write_env(root, "base-cpu", version="1")
    commit(repo, "base")
    repo.git.checkout("-b", "feature")
    write_env(root, "base-cpu", version="1", tags={"team": "ml"})
    head = commit(repo, "feature")
    repo.git.checkout("main")
    (root / "README").write_text("moved on\n")
    commit(repo, "main moved")
    repo.git.checkout("--detach")
    repo.git.merge("feature", "--no-ff", "-m", "Merge head into base")
    return repo, head, repo.head.commit.hexsha


def _env(tmp_path: Path, event: str, head: str, merge: str) -> dict[str, str]:
    payload = tmp_path / "event.json"
    payload.write_text(json.dumps({"pull_request": {"number": 7, "head": {"sha": head}}}))
    return {"GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(payload), "GITHUB_SHA": merge}


def test_plan_on_githubs_merge_commit_names_the_head(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _, head, merge = _pull_request(root)
    out = run(root, "plan", "--format", "markdown", env=_env(tmp_path, "pull_request", head, merge)).output
    assert f"Commit `{head}`." in out and merge not in out


def test_other_events_and_other_checkouts_keep_head(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    repo, head, merge = _pull_request(root)
    push = run(root, "plan", "--format", "markdown", env=_env(tmp_path, "push", head, merge)).output
    assert f"Commit `{merge}`." in push
    repo.git.checkout(head)  # actions/checkout with ref: the head sha
    out = run(root, "plan", "--format", "markdown", env=_env(tmp_path, "pull_request", head, merge)).output
    assert f"Commit `{head}`." in out
