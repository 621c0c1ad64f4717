"""Policy end to end through the real CLI: validate, plan on two targets (the stricter one
refuses to apply), saved plans, job references, `policy list`, and the docs' prod example."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from envsync.errors import ExitCode
from envsync.spec.policy.catalog import RULES
from envsync.spec.schemas import validator
from tests.docs_pages import page
from tests.helpers import IMAGE, commit, run

REPO = Path(__file__).resolve().parents[2]
POLICY_PAGE = page("policy.md")
TWO_TARGETS = """\
default_target: dev
policy:
  tags: {required: [owner]}
targets:
  dev: {type: local, path: .envsync/dev.db}
  prod:
    type: local
    path: .envsync/prod.db
    policy:
      rules: {image-mutable-tag: error, reference-latest: error}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Two targets; one environment on a moving tag, one pinned; a job on @latest of it."""
    (tmp_path / "envsync.yaml").write_text(TWO_TARGETS)
    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "moving.yml").write_text("name: moving\nimage: python:latest\ntags:\n  owner: ml\n")
    (envs / "pinned.yml").write_text(f"name: pinned\nimage: {IMAGE}\ntags:\n  owner: ml\n")
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "train.yml").write_text(
        "command: python train.py\nenvironment: azureml:pinned@latest\n"
    )
    return tmp_path


def test_dev_warns_and_plans(repo: Path) -> None:
    result = run(repo, "plan", "-t", "dev")
    assert result.exit_code == ExitCode.OK, result.output
    assert (
        "Policy (dev):\n  environments/moving.yml:2:8: warning: image 'python:latest' uses the moving tag"
        in result.output
    )
    assert "Plan: 0 orphans, 2 to create, 0 new versions, 0 to update.\n" in result.output  # no policy error
    assert "jobs/train.yml:2:14" not in result.output  # reference-latest is off outside prod


def test_prod_errors_and_apply_refuses(repo: Path) -> None:
    planned = run(repo, "plan", "-t", "prod")
    assert planned.exit_code == ExitCode.ERROR
    assert "  environments/moving.yml:2:8: error: image 'python:latest'" in planned.output
    assert (
        "  jobs/train.yml:2:14: error: azureml:pinned@latest: @latest of an environment envsync manages"
        in planned.output
    )
    assert "Plan: 0 orphans, 2 to create, 0 new versions, 0 to update. 2 policy errors.\n" in planned.output
    applied = run(repo, "apply", "-t", "prod", "--auto-approve")
    assert applied.exit_code == ExitCode.ERROR
    assert (
        "error: the plan breaks target prod's policy (2 error(s), first image-mutable-tag at environments/moving.yml:2)"
        in applied.output
    )
    assert "Plan: 0 orphans, 2 to create" in run(repo, "plan", "-t", "prod").output  # nothing was applied
    assert run(repo, "apply", "-t", "dev", "--auto-approve").exit_code == ExitCode.OK


def test_all_targets_plans_each_under_its_own_policy(repo: Path) -> None:
    result = run(repo, "plan", "--all-targets")
    assert result.exit_code == ExitCode.ERROR
    assert result.output.count("Policy (dev):") == 1 and result.output.count("Policy (prod):") == 1
    assert result.output.count("warning: image 'python:latest'") == 1
    assert result.output.count("error: image 'python:latest'") == 1


def test_json_plan_carries_rule_ids_and_a_saved_plan_with_errors_is_refused(repo: Path) -> None:
    result = run(repo, "plan", "-t", "prod", "--format", "json", "--out", str(repo / "plan.json"))
    doc = json.loads(result.output)
    assert list(validator("plan").iter_errors(doc)) == []
    assert [(p["rule"], p["severity"], p["path"], p["line"], p["col"]) for p in doc["problems"]] == [
        ("image-mutable-tag", "error", "environments/moving.yml", 2, 8),
        ("reference-latest", "error", "jobs/train.yml", 2, 14),
    ]
    applied = run(repo, "apply", str(repo / "plan.json"), "--auto-approve")
    assert applied.exit_code == ExitCode.ERROR and "breaks target prod's policy" in applied.output


def test_suppressed_findings_are_reported_as_such_in_json(repo: Path) -> None:
    moving = repo / "environments" / "moving.yml"
    moving.write_text(
        moving.read_text().replace(
            "latest\n", "latest  # envsync: allow image-mutable-tag -- base team's canary\n"
        )
    )
    result = run(repo, "plan", "-t", "prod", "--format", "json")
    doc = json.loads(result.output)
    assert [p["rule"] for p in doc["problems"]] == ["reference-latest"]
    assert doc["suppressed"] == [
        {
            "path": "environments/moving.yml",
            "line": 2,
            "col": 8,
            "message": doc["suppressed"][0]["message"],
            "severity": "error",
            "rule": "image-mutable-tag",
            "suppressed": True,
            "reason": "base team's canary",
        }
    ]
    text = run(repo, "validate", "-t", "prod", "--format", "json")
    assert [s["rule"] for s in json.loads(text.output)["suppressed"]] == ["image-mutable-tag"]


def test_validate_checks_the_top_level_policy_or_a_targets(repo: Path) -> None:
    top = run(repo, "validate")
    assert top.exit_code == ExitCode.OK
    assert top.output.splitlines()[-1] == "0 errors, 1 warning in 2 files; 2 environments valid"
    prod = run(repo, "validate", "-t", "prod")
    assert prod.exit_code == ExitCode.ERROR
    assert prod.output.splitlines() == [
        "environments/moving.yml:2:8: error: image 'python:latest' uses the moving tag 'latest': each workspace "
        "keeps whatever it resolved to at its first build; pin a version tag or a digest (@sha256:...) "
        "[image-mutable-tag]",
        "jobs/train.yml:2:14: error: azureml:pinned@latest: @latest of an environment envsync manages runs "
        "whatever version the next apply creates: pin azureml:pinned:<version> [reference-latest]",
        "2 errors, 0 warnings in 3 files",
    ]
    assert (
        run(repo, "validate", "-t", "nope").output.strip()
        == "error: unknown target 'nope' (configured: dev, local, prod)"
    )


def test_markdown_lists_policy_findings(repo: Path) -> None:
    result = run(repo, "plan", "-t", "prod", "--format", "markdown")
    assert (
        "#### Policy\n\n- ❌ `environments/moving.yml:2:8` **image-mutable-tag**: image 'python:latest'"
        in result.output
    )


def test_policy_list_shows_every_rule_and_the_targets_severity(repo: Path) -> None:
    text = run(repo, "policy", "list", "-t", "prod")
    assert text.exit_code == ExitCode.OK
    assert re.search(r"^image-mutable-tag\s+warning\s+error\s+a base image", text.output, re.M)
    doc = json.loads(run(repo, "policy", "list", "--format", "json").output)
    assert [r["id"] for r in doc["rules"]] == [r.id for r in RULES]
    assert {r["id"]: r["severity"] for r in doc["rules"]}["reference-latest"] == "off"


def test_the_examples_pass_the_default_policy_with_one_justified_suppression(tmp_path: Path) -> None:
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    doc = json.loads(run(tmp_path, "validate", "--format", "json").output)
    assert doc["problems"] == []
    assert [(s["path"], s["rule"]) for s in doc["suppressed"]] == [
        ("environments/sklearn-serve.yml", "image-mutable-tag")
    ]
    assert len(doc["suppressed"][0]["reason"]) > 20


def test_the_docs_prod_example_is_real(tmp_path: Path) -> None:
    section = POLICY_PAGE
    config = re.search(r"```yaml\n(policy:.*?)```", section, re.S)
    shown = re.search(r"```\n\$ envsync validate -t prod\n(.*?)```", section, re.S)
    assert config is not None and shown is not None
    assert list(validator("config").iter_errors(yaml.safe_load(config.group(1)))) == []
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    (tmp_path / "envsync.yaml").write_text(config.group(1))
    assert run(tmp_path, "validate", "-t", "dev").exit_code == ExitCode.OK
    result = run(tmp_path, "validate", "-t", "prod")
    assert result.exit_code == ExitCode.ERROR
    lines = [line for line in shown.group(1).splitlines() if line != "..."]
    assert lines and all(line in result.output.splitlines() for line in lines)


def test_policy_findings_are_github_annotations(repo: Path) -> None:
    planned = run(repo, "plan", "-t", "prod", "--format", "github")
    assert planned.exit_code == ExitCode.ERROR
    assert "::error file=environments/moving.yml,line=2,col=8," in planned.output
    assert "uses the moving tag 'latest'" in planned.output and "[image-mutable-tag]" in planned.output
    validated = run(repo, "validate", "--format", "github")
    assert "::warning file=environments/moving.yml,line=2,col=8," in validated.output


def test_a_job_line_can_suppress_reference_latest(repo: Path) -> None:
    job = repo / "jobs" / "train.yml"
    job.write_text(
        job.read_text().replace("@latest\n", "@latest  # envsync: allow reference-latest -- canary job\n")
    )
    doc = json.loads(run(repo, "plan", "-t", "prod", "--format", "json").output)
    assert [(s["rule"], s["path"], s["reason"]) for s in doc["suppressed"]] == [
        ("reference-latest", "jobs/train.yml", "canary job")
    ]
    assert [p["rule"] for p in doc["problems"]] == ["image-mutable-tag"]


def test_changed_since_reports_only_the_changed_environments_findings(repo: Path) -> None:
    import git

    made = git.Repo.init(repo, initial_branch="main")
    (repo / ".gitignore").write_text(".envsync/\n")
    commit(made, "seed")
    (repo / "environments" / "pinned.yml").write_text(f"name: pinned\nimage: {IMAGE}\ntags:\n  team: x\n")
    commit(made, "pinned loses its owner")
    doc = json.loads(run(repo, "plan", "-t", "dev", "--format", "json", "--changed-since", "HEAD~1").output)
    assert [(p["rule"], p["path"]) for p in doc["problems"]] == [("tag-required", "environments/pinned.yml")]
