"""The action (action.yml + action/run.sh) end to end, as a runner runs it, against the fake
GitHub API on 127.0.0.1: each failure of issue 15 (PR comments that lied) as a test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from envsync.gitops import github
from tests.action_runner import RUN_ID, SERVER, run_action
from tests.fake_github import APP_TOKEN, REPO, FakeGitHub, serve
from tests.helpers import commit, run, sample_repo, write_env

PLAN = github.plan_marker("local")
RUN_URL = f"{SERVER}/{REPO}/actions/runs/{RUN_ID}"


@pytest.fixture
def api() -> Iterator[FakeGitHub]:
    with serve() as state:
        yield state


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = sample_repo(tmp_path / "repo")
    (root / ".gitignore").write_text(".envsync/\n")
    commit(git.Repo.init(root, initial_branch="main"), "seed")
    return root


def _head(root: Path) -> str:
    return git.Repo(root).head.commit.hexsha


# --- 1. a plan that fails replaces the comment, and the job still fails -------------------------


def test_a_broken_yaml_replaces_the_plan_comment_and_fails_the_job(checkout: Path, api: FakeGitHub) -> None:
    first = run_action(checkout, api, command="plan", pr=7)
    assert first.returncode == 0, first.stderr
    assert (first.outputs["exit-code"], first.outputs["has-changes"]) == (
        "2",
        "true",
    ) and not first.job_failed
    assert first.outputs["summary"] == "Plan: 0 orphans, 3 to create, 0 new versions, 0 to update."
    [posted] = api.comments[7]
    assert posted["body"].startswith(PLAN) and "**Plan: 0 orphans, 3 to create" in posted["body"]

    yml = checkout / "environments" / "sklearn.yml"
    yml.write_text(
        yml.read_text().replace("image: mcr.microsoft.com", "image: 3\nx_image: mcr.microsoft.com")
    )
    commit(git.Repo(checkout), "image: 3")
    broken = run_action(checkout, api, command="plan", pr=7)
    assert (
        broken.job_failed and broken.outputs["exit-code"] == "1" and broken.outputs["has-changes"] == "false"
    )
    assert broken.outputs["summary"] == "error: 2 problems in environment files; nothing planned"
    [replaced] = api.comments[7]  # the same comment, edited in place
    body = replaced["body"]
    assert replaced["id"] == posted["id"] and body.startswith(PLAN)
    assert "### :x: envsync plan failed for `local`" in body and "Plan: 0 orphans, 3 to create" not in body
    link = f"{SERVER}/{REPO}/blob/{_head(checkout)}/environments/sklearn.yml#L10"
    assert f"- :x: [`environments/sklearn.yml:10:8`]({link}) image must be a string, not an integer" in body
    assert "unknown key 'x_image'" in body
    assert "Nothing was planned for this commit" in body
    assert "::error file=environments/sklearn.yml,line=10,col=8,title=envsync plan::" in broken.stderr
    assert "### :x: envsync plan failed" in broken.summary

    yml.write_text(yml.read_text().replace("image: 3\nx_image: ", "image: "))
    commit(git.Repo(checkout), "fixed")
    fixed = run_action(checkout, api, command="plan", pr=7)
    assert (
        fixed.outputs["exit-code"] == "2" and "**Plan: 0 orphans, 3 to create" in api.comments[7][0]["body"]
    )


def test_a_plan_error_shows_what_failed_above_the_plan(checkout: Path, api: FakeGitHub) -> None:
    assert run(checkout, "apply", "--auto-approve").exit_code == 0
    write_env(checkout, "base-cpu", version="1", image="mcr.microsoft.com/azureml/changed:1")
    commit(git.Repo(checkout), "change a pinned version")
    done = run_action(checkout, api, command="plan", pr=7)
    assert done.job_failed and done.outputs["exit-code"] == "1"
    assert done.outputs["summary"].startswith("Plan: 0 orphans, 0 to create") and done.outputs[
        "summary"
    ].endswith("1 error.")
    failure, plan = api.comments[7][0]["body"].split("\n\n---\n\n")
    assert "envsync plan found errors for `local`" in failure
    assert (
        "[`environments/base-cpu.yml:1:1`](" in failure and "base-cpu:1: version 1 already exists" in failure
    )
    assert plan.startswith("### envsync plan for `local`") and "! version 1 already exists" in plan


def test_a_workspace_envsync_cannot_use_replaces_the_comment(checkout: Path, api: FakeGitHub) -> None:
    run_action(checkout, api, command="plan", pr=7)
    (checkout / "envsync.yaml").write_text(
        "default_target: prod\ntargets:\n"
        f"  prod: {{type: azureml, subscription_id: s, resource_group: rg, workspace: ws1, endpoint: '{api.url}'}}\n"
    )
    commit(git.Repo(checkout), "target prod")
    done = run_action(checkout, api, command="plan", pr=7, target="prod")
    assert done.job_failed and done.outputs["exit-code"] == "1"
    bodies = api.bodies(7)
    assert len(bodies) == 2  # the local target's comment, and prod's
    prod = bodies[1]
    assert prod.startswith(github.plan_marker("prod")) and "envsync plan failed for `prod`" in prod
    assert "401" in prod and "Nothing was planned for this commit" in prod


# --- 2. the whole plan is in the log and the artifact; the comment is cut between entries -------


def test_a_3000_change_plan_is_cut_between_entries_and_printed_whole(checkout: Path, api: FakeGitHub) -> None:
    for i in range(3000):
        write_env(checkout, f"env-{i:04d}", tags={"owner": "platform-team", "cost-center": f"cc-{i}"})
    commit(git.Repo(checkout), "3000 environments")
    done = run_action(checkout, api, command="plan", pr=7)
    assert done.outputs["exit-code"] == "2", done.stderr
    assert done.outputs["summary"] == "Plan: 0 orphans, 3003 to create, 0 new versions, 0 to update."
    assert all(f"+ env-{i:04d}:1  (new environment)" in done.stdout for i in range(3000))  # the job log
    folder = Path(done.outputs["report-dir"])
    assert done.outputs["artifact-name"] == "envsync-plan-default"
    assert {p.name for p in folder.iterdir()} >= {
        "plan.txt",
        "plan.md",
        "plan.json",
        "plan.summary",
        "plan.log",
    }
    assert (folder / "plan.md").read_text().count("<details>") == 3003
    assert len(json.loads((folder / "plan.json").read_text())["changes"]) == 3003
    body = api.comments[7][0]["body"]
    assert len(body) <= 65_535 and body.startswith(PLAN)
    shown, note = body.split("\n\n> **")
    assert shown.count("<details>") == shown.count("</details>") and shown.count("```") % 2 == 0
    hidden = 3003 - shown.count("<details>")
    assert hidden > 2000 and note.startswith(f"{hidden:,} of ")
    assert f"in the workflow artifact `envsync-plan-default` of [this workflow run]({RUN_URL})" in note
    assert done.summary == Path(folder / "plan.post.md").read_text()  # the step summary is cut too


# --- 3. someone else's copy of the report is never edited ----------------------------------------


def test_a_reviewers_raw_copy_is_left_alone_and_an_apps_own_comment_is_found(
    checkout: Path, api: FakeGitHub
) -> None:
    copied = api.comment(7, f"{PLAN}\nold plan, pasted by a reviewer", author="reviewer")
    run_action(checkout, api, command="plan", pr=7)
    assert api.comments[7][0] == {
        **api.comments[7][0],
        "id": copied,
        "body": f"{PLAN}\nold plan, pasted by a reviewer",
    }
    assert api.comments[7][1]["user"]["login"] == "github-actions[bot]"
    app = api.comment(7, f"{PLAN}\nthe app's earlier plan", author="envsync-app[bot]")
    run_action(checkout, api, command="plan", pr=7, token=APP_TOKEN, comment_author="envsync-app[bot]")
    mine = next(c for c in api.comments[7] if c["id"] == app)
    assert "**Plan: 0 orphans, 3 to create" in mine["body"] and len(api.comments[7]) == 3


# --- 4. a lost answer to the POST does not post the comment twice -------------------------------


def test_a_post_whose_answer_was_lost_leaves_one_comment(checkout: Path, api: FakeGitHub) -> None:
    api.lost["POST"] = [200, 502]  # the viewer query answers; the comment is made, its answer lost
    done = run_action(checkout, api, command="plan", pr=7)
    assert done.returncode == 0, done.stderr
    assert len(api.comments[7]) == 1 and "created comment" in done.stdout


# --- 5. the comment names the pull request's head ------------------------------------------------


def test_the_comment_names_the_pull_requests_head_not_the_merge_commit(
    tmp_path: Path, api: FakeGitHub
) -> None:
    root = sample_repo(tmp_path / "repo")
    (root / ".gitignore").write_text(".envsync/\n")
    repo = git.Repo.init(root, initial_branch="main")
    commit(repo, "seed")
    repo.git.checkout("-b", "feature")
    write_env(root, "extra")
    head = commit(repo, "feature")
    repo.git.checkout("main")
    (root / "NOTES").write_text("main moved on\n")
    commit(repo, "main")
    repo.git.checkout("--detach")
    repo.git.merge("feature", "--no-ff", "-m", "Merge")  # what actions/checkout checks out for a PR
    merge = repo.head.commit.hexsha
    event = {"pull_request": {"number": 7, "head": {"sha": head}}}
    run_action(root, api, command="plan", pr=7, event=event, sha=merge)
    body = api.comments[7][0]["body"]
    assert f"Commit `{head}`." in body and merge not in body
    (root / "environments" / "extra.yml").write_text("name: extra\nimage: 3\n")
    failed = run_action(root, api, command="plan", pr=7, event=event, sha=merge)
    assert failed.job_failed
    assert (
        f"Commit `{head}`." in api.comments[7][0]["body"]
        and f"/blob/{head}/environments/extra.yml#L2" in api.comments[7][0]["body"]
    )


# --- the other commands through the action --------------------------------------------------------


def test_validate_and_apply_through_the_action(checkout: Path, api: FakeGitHub) -> None:
    (checkout / "environments" / "bad.yml").write_text("name: bad\nimage: 3\n")
    bad = run_action(checkout, api, command="validate")
    assert bad.job_failed and bad.stdout.startswith(
        "::error file=environments/bad.yml,line=2,col=8,title=envsync validate::"
    )
    (checkout / "environments" / "bad.yml").unlink()
    applied = run_action(checkout, api, command="apply")
    assert not applied.job_failed, applied.stderr
    assert applied.outputs["summary"] == "Apply complete: 3 created, 0 new versions, 0 updated, 0 failed."
    assert api.requests == []  # neither posts anything


def test_a_broken_envsync_yaml_still_replaces_the_comment(checkout: Path, api: FakeGitHub) -> None:
    run_action(checkout, api, command="plan", pr=7)
    (checkout / "envsync.yaml").write_text("concurrency: many\n")
    commit(git.Repo(checkout), "bad config")
    done = run_action(checkout, api, command="plan", pr=7)
    assert done.returncode == 0 and done.job_failed, done.stderr
    [body] = api.bodies(7)
    assert (
        body.startswith(PLAN)
        and "**envsync.yaml:1:14: concurrency: 'many' is not of type 'integer'**" in body
    )
