"""Git-aware commands on real repositories made in tmp_path: --changed-since, --at, provenance,
dirty trees, several targets, drift."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest

from envsync.errors import ExitCode
from envsync.workspace import COMMIT_PROPERTY, SOURCE_PROPERTY
from envsync.workspace.local.workspace import LocalWorkspace
from tests.helpers import commit, run, write_env


@pytest.fixture
def repo(git_sample: git.Repo) -> git.Repo:
    return git_sample


def root(repo: git.Repo) -> Path:
    return Path(repo.working_tree_dir or ".")


def plan_json(repo: git.Repo, *args: str) -> dict:  # type: ignore[type-arg]
    result = run(root(repo), "plan", "--format", "json", *args)
    assert result.exit_code == ExitCode.OK, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_apply_records_commit_and_source(repo: git.Repo) -> None:
    assert run(root(repo), "apply", "--auto-approve").exit_code == ExitCode.OK
    version = LocalWorkspace(root(repo) / ".envsync/workspace.db").get_version("sklearn", "1")
    assert version is not None
    assert version.body.properties[COMMIT_PROPERTY] == repo.head.commit.hexsha
    assert version.body.properties[SOURCE_PROPERTY] == "environments/sklearn.yml"


def test_apply_refuses_a_dirty_tree_unless_allowed(repo: git.Repo) -> None:
    write_env(root(repo), "sklearn", image="mcr.microsoft.com/azureml/other:1")
    refused = run(root(repo), "apply", "--auto-approve")
    assert refused.exit_code == ExitCode.ERROR
    assert "uncommitted changes" in refused.output and "--allow-dirty" in refused.output
    allowed = run(root(repo), "apply", "--auto-approve", "--allow-dirty")
    assert allowed.exit_code == ExitCode.OK, allowed.output
    version = LocalWorkspace(root(repo) / ".envsync/workspace.db").get_version("sklearn", "1")
    assert version is not None
    assert version.body.properties[COMMIT_PROPERTY] == repo.head.commit.hexsha + "-dirty"


def test_changed_since_plans_only_what_changed(repo: git.Repo) -> None:
    assert run(root(repo), "apply", "--auto-approve").exit_code == ExitCode.OK
    repo.git.checkout("-b", "feature")
    write_env(root(repo), "sklearn", image="mcr.microsoft.com/azureml/other:1")
    (root(repo) / "environments" / "torch" / "requirements.txt").write_text("torch==2.3.1\n")
    (root(repo) / "environments" / "base-cpu.yml").unlink()
    commit(repo, "change two, delete one")
    doc = plan_json(repo, "--changed-since", "main")
    assert sorted((c["name"], c["action"]) for c in doc["changes"]) == [
        ("base-cpu", "orphan"),
        ("sklearn", "new_version"),
        ("torch", "new_version"),
    ]
    assert doc["commit"] == repo.head.commit.hexsha


def test_changed_since_sees_a_conda_file_changed_on_its_own(repo: git.Repo) -> None:
    write_env(root(repo), "conda-env", conda_file="conda-env.conda.yml")
    (root(repo) / "environments" / "conda-env.conda.yml").write_text("dependencies:\n- python=3.10\n")
    commit(repo, "conda env")
    assert run(root(repo), "apply", "--auto-approve").exit_code == ExitCode.OK
    (root(repo) / "environments" / "conda-env.conda.yml").write_text("dependencies:\n- python=3.11\n")
    doc = plan_json(repo, "--changed-since", "HEAD")
    assert [(c["name"], c["action"]) for c in doc["changes"]] == [("conda-env", "new_version")]


def test_changed_since_a_bad_ref_is_a_clear_error(repo: git.Repo) -> None:
    result = run(root(repo), "plan", "--changed-since", "no-such-branch")
    assert result.exit_code == ExitCode.ERROR
    assert "unknown git ref 'no-such-branch'" in result.output


def test_plan_at_a_ref_reads_old_definitions_without_checkout(repo: git.Repo) -> None:
    first = repo.head.commit.hexsha
    write_env(root(repo), "sklearn", image="mcr.microsoft.com/azureml/other:1")
    (root(repo) / "environments" / "torch" / "Dockerfile").write_text("FROM python:3.12\n")
    commit(repo, "change")
    assert run(root(repo), "apply", "--auto-approve").exit_code == ExitCode.OK
    doc = plan_json(repo, "--at", first)
    assert sorted((c["name"], c["action"]) for c in doc["changes"]) == [
        ("base-cpu", "noop"),
        ("sklearn", "new_version"),
        ("torch", "new_version"),
    ]
    assert "other:1" in (root(repo) / "environments" / "sklearn.yml").read_text()
    assert not repo.is_dirty()


def test_all_targets_plans_each_target(repo: git.Repo) -> None:
    (root(repo) / "envsync.yaml").write_text(
        "targets:\n  dev: {type: local, path: .envsync/dev.db}\n  prod: {type: local, path: .envsync/prod.db}\n"
    )
    commit(repo, "targets")
    assert run(root(repo), "apply", "--auto-approve", "--target", "dev").exit_code == ExitCode.OK
    result = run(root(repo), "plan", "--all-targets", "--detailed-exitcode")
    assert result.exit_code == ExitCode.CHANGES
    assert result.output.count("Target: ") == 2
    assert "Target: dev\n\nNo changes." in result.output
    assert "Plan: 0 orphans, 3 to create" in result.output
    applied = run(root(repo), "apply", "--all-targets", "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.output
    assert run(root(repo), "plan", "--all-targets", "--detailed-exitcode").exit_code == ExitCode.OK


def test_drift_exits_2_on_hand_edits_and_0_when_clean(repo: git.Repo) -> None:
    assert run(root(repo), "apply", "--auto-approve").exit_code == ExitCode.OK
    assert run(root(repo), "drift").exit_code == ExitCode.OK
    ws = LocalWorkspace(root(repo) / ".envsync/workspace.db")
    ws.update_version("base-cpu", "1", description="edited in the portal", tags={"team": "ml"})
    result = run(root(repo), "drift", "--format", "json")
    assert result.exit_code == ExitCode.CHANGES
    item = json.loads(result.output)["items"][0]
    assert (item["kind"], item["git"]["description"], item["workspace"]["description"]) == (
        "edited",
        "Base image",
        "edited in the portal",
    )
