"""The real CLI, end to end, on the embedded local workspace (a SQLite file in tmp_path)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envsync.errors import ExitCode
from envsync.spec.schemas import validator
from envsync.workspace import COMMIT_PROPERTY, FINGERPRINT_PROPERTY, SOURCE_PROPERTY, ListView
from envsync.workspace.local.workspace import LocalWorkspace
from tests.helpers import run, write_env


@pytest.fixture
def repo(sample: Path) -> Path:
    return sample


def workspace(root: Path) -> LocalWorkspace:
    return LocalWorkspace(root / ".envsync" / "workspace.db")


def test_plan_apply_then_no_changes(repo: Path) -> None:
    planned = run(repo, "plan", "--detailed-exitcode")
    assert planned.exit_code == ExitCode.CHANGES, planned.output
    assert "Plan: 0 orphans, 3 to create, 0 new versions, 0 to update." in planned.output
    applied = run(repo, "apply", "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.output
    assert "Apply complete: 3 created, 0 new versions, 0 updated, 0 failed." in applied.output
    again = run(repo, "plan", "--detailed-exitcode")
    assert again.exit_code == ExitCode.OK, again.output
    assert "No changes." in again.output
    second = run(repo, "apply", "--auto-approve")
    assert second.exit_code == ExitCode.OK
    assert "No changes." in second.output


def test_applied_versions_carry_provenance(repo: Path) -> None:
    assert run(repo, "apply", "--auto-approve").exit_code == ExitCode.OK
    version = workspace(repo).get_version("sklearn", "1")
    assert version is not None
    props = version.body.properties
    assert props[SOURCE_PROPERTY] == "environments/sklearn.yml"
    assert len(props[FINGERPRINT_PROPERTY]) == 64
    assert COMMIT_PROPERTY not in props  # not a git repository


def test_changed_image_plans_a_new_version_and_tags_an_update(repo: Path) -> None:
    assert run(repo, "apply", "--auto-approve").exit_code == ExitCode.OK
    write_env(repo, "sklearn", image="mcr.microsoft.com/azureml/other:2")
    write_env(repo, "base-cpu", version="1", description="Base image", tags={"team": "ai"})
    out = run(repo, "plan").output
    assert "+ sklearn:2  (new version, latest is 1)" in out
    assert "~ base-cpu:1  (update in place)" in out
    assert '~ tags.team: "ml" → "ai"' in out
    assert run(repo, "apply", "--auto-approve").exit_code == ExitCode.OK
    assert [v.version for v in workspace(repo).list_versions("sklearn")] == ["2", "1"]
    assert workspace(repo).get_version("base-cpu", "1").body.tags == {"team": "ai"}  # type: ignore[union-attr]


def test_changed_content_at_an_explicit_version_is_an_error(repo: Path) -> None:
    assert run(repo, "apply", "--auto-approve").exit_code == ExitCode.OK
    write_env(repo, "base-cpu", version="1", image="mcr.microsoft.com/azureml/changed:1")
    result = run(repo, "plan")
    assert result.exit_code == ExitCode.ERROR
    assert "bump `version` in environments/base-cpu.yml" in result.output
    applied = run(repo, "apply", "--auto-approve")
    assert applied.exit_code == ExitCode.ERROR
    assert "the plan has errors (base-cpu)" in applied.output


def test_json_plan_follows_the_schema(repo: Path) -> None:
    result = run(repo, "plan", "--format", "json")
    doc = json.loads(result.output)
    assert list(validator("plan").iter_errors(doc)) == []
    assert {c["action"] for c in doc["changes"]} == {"create"}


def test_saved_plan_applies_exactly_and_stale_changes_are_refused(repo: Path) -> None:
    assert run(repo, "apply", "--auto-approve").exit_code == ExitCode.OK
    write_env(repo, "base-cpu", version="1", description="Base image", tags={"team": "ai"})
    write_env(repo, "sklearn", image="mcr.microsoft.com/azureml/other:2")
    assert run(repo, "plan", "--out", str(repo / "plan.json")).exit_code == ExitCode.OK
    workspace(repo).update_version("base-cpu", "1", description="edited by hand", tags={})
    result = run(repo, "apply", str(repo / "plan.json"))
    assert result.exit_code == ExitCode.ERROR
    assert "base-cpu:1: stale" in result.output
    assert "sklearn:2: new version created" in result.output
    assert workspace(repo).get_version("base-cpu", "1").body.description == "edited by hand"  # type: ignore[union-attr]


def test_saved_plan_for_another_target_is_refused(repo: Path) -> None:
    (repo / "envsync.yaml").write_text("targets:\n  other:\n    type: local\n    path: other.db\n")
    assert run(repo, "plan", "--out", str(repo / "plan.json")).exit_code == ExitCode.OK
    result = run(repo, "apply", str(repo / "plan.json"), "--target", "other")
    assert result.exit_code == ExitCode.ERROR
    assert "the plan is for target 'local', not 'other'" in result.output


def test_apply_off_a_terminal_needs_auto_approve(repo: Path) -> None:
    result = run(repo, "apply")
    assert result.exit_code == ExitCode.ERROR
    assert "pass --auto-approve" in result.output
    assert workspace(repo).get_environment("sklearn") is None


def test_invalid_yaml_applies_nothing(repo: Path) -> None:
    (repo / "environments" / "broken.yml").write_text("name: broken\nimage: [unclosed\n")
    result = run(repo, "apply", "--auto-approve")
    assert result.exit_code == ExitCode.ERROR
    assert "environments/broken.yml:3:1" in result.output or "environments/broken.yml:2" in result.output
    assert list(workspace(repo).list_environments(ListView.ALL)) == [
        c for c in workspace(repo).list_environments(ListView.ALL) if c.curated
    ]


def test_orphans_reported_then_pruned_unless_protected(repo: Path) -> None:
    assert run(repo, "apply", "--auto-approve").exit_code == ExitCode.OK
    (repo / "environments" / "sklearn.yml").unlink()
    (repo / "environments" / "base-cpu.yml").unlink()
    (repo / "envsync.yaml").write_text("protected: [base-cpu]\n")
    out = run(repo, "plan").output
    assert "- sklearn:1  (orphan: archived only with --prune)" in out
    kept = run(repo, "apply", "--auto-approve")
    assert "orphan kept (archive it with --prune)" in kept.output
    pruned = run(repo, "apply", "--auto-approve", "--prune")
    assert pruned.exit_code == ExitCode.OK, pruned.output
    assert "- sklearn:1  (orphan: will be archived)" in pruned.output
    assert "- base-cpu:1  (orphan: protected in envsync.yaml, kept)" in pruned.output
    assert "Plan: 1 to archive (1 protected orphan kept), " in pruned.output
    assert "sklearn:1: archived" in pruned.output
    assert "protected in envsync.yaml" in pruned.output
    ws = workspace(repo)
    assert ws.get_version("sklearn", "1").archived  # type: ignore[union-attr]
    assert not ws.get_version("base-cpu", "1").archived  # type: ignore[union-attr]


def test_existing_version_with_other_content_is_a_conflict_never_overwritten(repo: Path) -> None:
    assert run(repo, "plan", "--out", str(repo / "plan.json")).exit_code == ExitCode.OK
    from envsync.workspace import VersionBody

    workspace(repo).create_version("base-cpu", "1", VersionBody(image="someone/else:1"))
    result = run(repo, "apply", str(repo / "plan.json"))
    assert result.exit_code == ExitCode.ERROR
    assert "base-cpu:1: conflict" in result.output
    assert "sklearn:1: created" in result.output
    assert workspace(repo).get_version("base-cpu", "1").body.image == "someone/else:1"  # type: ignore[union-attr]


def test_markdown_plan(repo: Path) -> None:
    out = run(repo, "plan", "--format", "markdown").output
    assert out.startswith("### envsync plan for `local`")
    assert "<details open><summary>+ <code>sklearn:1</code> new environment</summary>" in out  # 3: short


def test_last_applied_record_lets_plan_skip_versions(repo: Path) -> None:
    assert run(repo, "apply", "--auto-approve").exit_code == ExitCode.OK
    verbose = run(repo, "plan", "--verbose").output
    assert "unchanged since the last apply" in verbose
    refreshed = run(repo, "plan", "--verbose", "--refresh").output
    assert "unchanged since the last apply" not in refreshed
    assert "No changes." in refreshed


def test_yaml_restored_after_prune_is_restored_not_duplicated(repo: Path) -> None:
    """`apply --prune` archived sklearn:1; its YAML came back (a git revert): the next plain plan
    restores version 1 instead of trusting the container record or making version 2."""
    assert run(repo, "apply", "--auto-approve").exit_code == ExitCode.OK
    yaml_text = (repo / "environments" / "sklearn.yml").read_text()
    (repo / "environments" / "sklearn.yml").unlink()
    assert run(repo, "apply", "--auto-approve", "--prune").exit_code == ExitCode.OK
    (repo / "environments" / "sklearn.yml").write_text(yaml_text)
    planned = run(repo, "plan")
    assert "~ sklearn:1  (restore: un-archive)" in planned.output, planned.output
    assert "Plan: 0 orphans, 0 to create, 0 new versions, 0 to update, 1 to restore." in planned.output
    applied = run(repo, "apply", "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.output
    assert "sklearn:1: restored" in applied.output
    assert "Apply complete: 0 created, 0 new versions, 0 updated, 1 restored, 0 failed." in applied.output
    assert [v.version for v in workspace(repo).list_versions("sklearn", ListView.ALL)] == ["1"]
    assert "No changes." in run(repo, "plan").output


def test_saved_refresh_plan_restores_and_apply_refresh_heals(repo: Path) -> None:
    assert run(repo, "apply", "--auto-approve").exit_code == ExitCode.OK
    ws = workspace(repo)
    ws.set_archived("base-cpu", "1", True)
    ws.update_version("sklearn", "1", description="by hand", tags={})
    assert "No changes." in run(repo, "plan").output  # the fast path cannot see either
    out = repo / "plan.json"
    planned = run(repo, "plan", "--refresh", "--out", str(out))
    assert "~ base-cpu:1  (restore: un-archive)" in planned.output
    assert "1 to update, 1 to restore" in planned.output
    applied = run(repo, "apply", str(out))
    assert applied.exit_code == ExitCode.OK, applied.output
    assert "1 updated, 1 restored, 0 failed" in applied.output
    assert not ws.get_version("base-cpu", "1").archived  # type: ignore[union-attr]
    assert "No changes." in run(repo, "plan", "--refresh").output
    ws.update_version("base-cpu", "1", description=None, tags={"team": "x"})
    healed = run(repo, "apply", "--refresh", "--auto-approve")
    assert healed.exit_code == ExitCode.OK, healed.output
    assert "base-cpu:1: updated" in healed.output
    assert "No changes." in run(repo, "plan", "--refresh").output


def test_refresh_with_a_saved_plan_is_a_usage_error(repo: Path) -> None:
    assert run(repo, "plan", "--out", str(repo / "plan.json")).exit_code == ExitCode.OK
    result = run(repo, "apply", str(repo / "plan.json"), "--refresh")
    assert result.exit_code == ExitCode.ERROR
    assert "a saved plan applies as it was made" in result.output


def test_archived_environment_is_restored_and_its_other_versions_stay_archived(repo: Path) -> None:
    assert run(repo, "apply", "--auto-approve").exit_code == ExitCode.OK
    write_env(repo, "sklearn", image="mcr.microsoft.com/azureml/other:1")
    assert run(repo, "apply", "--auto-approve").exit_code == ExitCode.OK
    ws = workspace(repo)
    ws.set_archived("sklearn", None, True)
    planned = run(repo, "plan")  # an archived container is never trusted by the fast path
    assert "~ sklearn:2  (restore: un-archive)" in planned.output, planned.output
    assert "the whole environment is archived" in planned.output
    applied = run(repo, "apply", "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.output
    assert not ws.get_environment("sklearn").archived  # type: ignore[union-attr]
    states = {v.version: v.archived for v in ws.list_versions("sklearn", ListView.ALL)}
    assert states == {"2": False, "1": True}
    assert "No changes." in run(repo, "plan", "--refresh").output
