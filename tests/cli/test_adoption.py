"""Issue 25's repros end to end, through the real CLI in a real git repository, each against
the local workspace and against the emulator (REST)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import git
import pytest
from click.testing import CliRunner

from envsync.cli import cli
from envsync.emulator.server import start_emulator
from envsync.errors import ExitCode
from tests.cli.adoption_fixtures import Setup, setup
from tests.helpers import IMAGE, commit, run, write_env
from tests.workspace import emulator_fixtures

emulator = emulator_fixtures.emulator  # the session's emulator: a workspace of its own per test
__all__ = ["setup"]


# -- 6: names and versions the service would refuse are errors at file:line -----------------


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1-<VERSION>", "holds an unsubstituted template placeholder"),
        ("../x", "is not a valid version"),
        ("a#b", "is not a valid version"),
        ("v 1", "is not a valid version"),
        ("latest", "is reserved"),
        ("3\n", "is not a valid version"),
    ],
)
def test_versions_the_service_refuses_are_errors_and_nothing_is_made(
    setup: Setup, version: str, message: str
) -> None:
    write_env(setup.root, "team-sklearn", version=version)
    setup.commit()
    for command in (("validate",), ("plan",), ("apply", "--auto-approve")):
        result = setup.envsync(*command)
        assert result.exit_code == ExitCode.ERROR, result.output
        assert "environments/team-sklearn.yml:2:10: " in result.output  # validate adds "error: "
        assert message in result.output
    space = setup.workspace()
    try:
        assert space.get_environment("team-sklearn") is None
    finally:
        space.close()


def test_a_name_with_a_trailing_newline_is_an_error(setup: Setup) -> None:
    (setup.root / "environments").mkdir()
    (setup.root / "environments" / "e.yml").write_text(f'name: "e\\n"\nimage: {IMAGE}\n')
    setup.commit()
    result = setup.envsync("plan")
    assert result.exit_code == ExitCode.ERROR
    assert "environments/e.yml:1:7: " in result.output
    assert "name 'e\\n' is not a valid environment name" in result.output


# -- 3: a git repository is required for plan, apply and drift --------------------------------


@pytest.mark.parametrize("command", [("plan",), ("apply", "--auto-approve"), ("drift",)])
def test_outside_git_plan_apply_and_drift_refuse_and_write_nothing(
    setup: Setup, tmp_path: Path, command: tuple[str, ...]
) -> None:
    scratch = tmp_path / "scratch"
    write_env(scratch, "someone-elses")
    shutil.copy(setup.root / "envsync.yaml", scratch / "envsync.yaml")
    result = run(scratch, *command)
    assert result.exit_code == ExitCode.ERROR, result.output
    assert result.output.strip().splitlines()[-1] == (
        f"error: {scratch} is not inside a git repository: envsync plans what git defines; run it in "
        "one (git init), or pass --no-git (ENVSYNC_NO_GIT=1) to plan a plain folder"
    )
    assert sorted(p.name for p in scratch.iterdir()) == ["environments", "envsync.yaml"]
    space = setup.workspace()
    try:
        assert space.get_environment("someone-elses") is None
    finally:
        space.close()


def test_outside_git_the_opt_out_plans_a_plain_folder(setup: Setup, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    write_env(scratch, "mine")
    shutil.copy(setup.root / "envsync.yaml", scratch / "envsync.yaml")
    result = run(scratch, "--no-git", "plan")
    assert result.exit_code == ExitCode.OK, result.output
    assert "+ mine:1  (new environment)" in result.output


def test_a_missing_dash_c_folder_is_an_error_and_is_not_made(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    result = CliRunner().invoke(cli, ["-C", str(missing), "plan"])
    assert result.exit_code == ExitCode.ERROR
    assert "does not exist" in result.output
    assert not missing.exists()


# -- 8: -C DIR takes every relative path option from DIR --------------------------------------


def test_dash_c_resolves_relative_paths_against_its_folder(
    setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.by_hand("team-sklearn", "1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    repo = str(setup.root)
    invoke = lambda *a: CliRunner().invoke(cli, ["-C", repo, *a])  # noqa: E731
    imported = invoke("import", "--out", "environments")
    assert imported.exit_code == ExitCode.OK, imported.output
    assert (setup.root / "environments" / "team-sklearn.yml").is_file()
    setup.commit("imported")
    planned = invoke("plan", "--out", "plan.json", "--report-dir", "reports")
    assert planned.exit_code == ExitCode.OK, planned.output
    assert (setup.root / "plan.json").is_file() and (setup.root / "reports" / "plan.txt").is_file()
    assert invoke("validate", "environments/team-sklearn.yml").exit_code == ExitCode.OK
    assert invoke("drift", "--report-dir", "reports").exit_code == ExitCode.OK
    assert (setup.root / "reports" / "drift.txt").is_file()
    applied = invoke("apply", "plan.json")
    assert applied.exit_code == ExitCode.OK, applied.output
    assert list(elsewhere.iterdir()) == []


# -- 1: adoption that ends managed -------------------------------------------------------------

OTHER = "mcr.microsoft.com/azureml/minimal-ubuntu22.04-py311-cpu-inference:20250101.v1"


def _adopt(setup: Setup) -> None:
    """team-sklearn 1 and 2 and team-base 1 made by hand, imported and committed."""
    setup.by_hand("team-sklearn", "1", image=OTHER)
    setup.by_hand("team-sklearn", "2")
    setup.by_hand("team-base", "1")
    imported = setup.envsync("import", "--out", "environments")
    assert imported.exit_code == ExitCode.OK, imported.output
    setup.commit("import")


def _active(setup: Setup, name: str) -> list[str]:
    space = setup.workspace()
    try:
        return sorted(v.version for v in space.list_versions(name))
    finally:
        space.close()


def test_right_after_import_the_plan_has_no_changes_and_drift_is_clean(setup: Setup) -> None:
    _adopt(setup)
    planned = setup.envsync("plan", "--detailed-exitcode")
    assert planned.exit_code == ExitCode.OK, planned.output
    assert "No changes." in planned.output
    assert setup.envsync("drift").exit_code == ExitCode.OK
    applied = setup.envsync("apply", "--auto-approve")  # writes the records: adoption
    assert applied.exit_code == ExitCode.OK, applied.output
    drifted = setup.envsync("drift")
    assert drifted.exit_code == ExitCode.OK, drifted.output


def test_imported_versions_stay_managed_through_ordinary_changes(setup: Setup) -> None:
    _adopt(setup)
    assert setup.envsync("apply", "--auto-approve").exit_code == ExitCode.OK
    path = setup.root / "environments" / "team-sklearn.yml"
    text = path.read_text()
    path.write_text(text.replace('version: "2"\n', "").replace(IMAGE, OTHER + "-next"))
    setup.commit("a new image, no version")
    applied = setup.envsync("apply", "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.output
    assert _active(setup, "team-sklearn") == ["1", "2", "3"]
    drifted = setup.envsync("drift")
    assert drifted.exit_code == ExitCode.OK, drifted.output
    setup.by_hand("team-sklearn", "9", image=OTHER)  # made by hand after the adoption
    drifted = setup.envsync("drift", "--format", "json")
    assert drifted.exit_code == ExitCode.CHANGES
    found = [(i["kind"], i["name"], i["version"]) for i in json.loads(drifted.output)["items"]]
    # 9 is now the latest, so git's content is not: that is reported too (apply makes it latest)
    assert found == [("missing", "team-sklearn", None), ("unmanaged_version", "team-sklearn", "9")]


def test_a_deleted_imported_yaml_makes_orphans_that_prune_archives(setup: Setup) -> None:
    _adopt(setup)
    assert setup.envsync("apply", "--auto-approve").exit_code == ExitCode.OK
    (setup.root / "environments" / "team-sklearn.yml").unlink()
    setup.commit("team-sklearn retired")
    planned = setup.envsync("plan")
    assert "- team-sklearn:1  (orphan: archived only with --prune)" in planned.output
    assert "- team-sklearn:2  (orphan: archived only with --prune)" in planned.output
    pruned = setup.envsync("apply", "--prune", "--auto-approve")
    assert pruned.exit_code == ExitCode.OK, pruned.output
    assert _active(setup, "team-sklearn") == []
    assert _active(setup, "team-base") == ["1"]
    assert setup.envsync("plan", "--detailed-exitcode").exit_code == ExitCode.OK


def test_import_skips_the_names_git_already_defines(setup: Setup) -> None:
    write_env(setup.root, "team-base", version="1", description="ours")
    setup.commit("team-base in git")
    setup.by_hand("team-base", "1")
    setup.by_hand("team-new", "1")
    imported = setup.envsync("import", "--out", "environments")
    assert imported.exit_code == ExitCode.OK, imported.output
    assert "skipped team-base: git already defines it in environments/team-base.yml" in imported.output
    assert "1 environment imported." in imported.output
    assert "description: ours" in (setup.root / "environments" / "team-base.yml").read_text()
    assert (setup.root / "environments" / "team-new.yml").is_file()


# -- 2: a prune that cannot empty a target by accident -----------------------------------------


def _five(setup: Setup) -> None:
    for name in ("a", "b", "c", "d", "e"):
        write_env(setup.root, f"team-{name}")
    setup.commit("five environments")
    assert setup.envsync("apply", "--auto-approve").exit_code == ExitCode.OK


def test_a_glob_matching_no_file_is_an_error_and_nothing_is_archived(setup: Setup) -> None:
    _five(setup)
    setup.config('environments: ["environment/*.yml"]\n')
    setup.commit("a typo")
    line = len((setup.root / "envsync.yaml").read_text().splitlines())
    expected = "environments: 'environment/*.yml' matches no file"
    for command in (("validate",), ("plan",), ("apply", "--prune", "--auto-approve")):
        result = setup.envsync(*command)
        assert result.exit_code == ExitCode.ERROR, result.output
        assert f"envsync.yaml:{line}:16: " in result.output and expected in result.output
    assert _active(setup, "team-a") == ["1"]


def test_a_target_glob_matching_none_of_the_files_is_an_error(setup: Setup) -> None:
    _five(setup)
    text = (setup.root / "envsync.yaml").read_text()
    if setup.kind == "local":
        text = "targets:\n  local: {type: local, environments: [environments/*-gpu.yml]}\n"
    else:
        text = text.replace("endpoint:", "environments: [environments/*-gpu.yml], endpoint:")
    (setup.root / "envsync.yaml").write_text(text)
    setup.commit("a subset that is empty")
    result = setup.envsync("plan")
    assert result.exit_code == ExitCode.ERROR
    assert ".environments: 'environments/*-gpu.yml' matches none of the environment files" in result.output


def test_a_prune_of_every_managed_environment_refuses_without_the_flag(setup: Setup) -> None:
    _five(setup)
    for path in (setup.root / "environments").iterdir():
        path.unlink()
    (setup.root / "environments" / ".keep").write_text("")
    setup.commit("everything deleted")
    planned = setup.envsync("plan")
    assert (
        planned.output.strip().splitlines()[-1]
        == "Plan: 5 orphans, 0 to create, 0 new versions, 0 to update."
    )
    refused = setup.envsync("apply", "--prune", "--auto-approve")
    assert refused.exit_code == ExitCode.ERROR
    assert refused.output.strip().splitlines()[-1] == (
        f"error: apply --prune would archive every environment envsync manages in {_target(setup)} "
        "(5 of 5); nothing applied: check the environments globs in envsync.yaml, and pass "
        "--allow-mass-prune if that is meant"
    )
    assert "Plan: 5 to archive, 0 to create" in refused.output
    assert _active(setup, "team-a") == ["1"]
    allowed = setup.envsync("apply", "--prune", "--allow-mass-prune", "--auto-approve")
    assert allowed.exit_code == ExitCode.OK, allowed.output
    assert _active(setup, "team-a") == []


def test_a_prune_over_the_configured_share_refuses(setup: Setup) -> None:
    _five(setup)
    setup.config("max_prune_share: 0.5\n")
    for name in ("a", "b", "c"):
        (setup.root / "environments" / f"team-{name}.yml").unlink()
    setup.commit("three of five deleted")
    refused = setup.envsync("apply", "--prune", "--auto-approve")
    assert refused.exit_code == ExitCode.ERROR
    assert (
        f"would archive 3 of the 5 environments envsync manages in {_target(setup)}, more than "
        in refused.output
    )
    assert _active(setup, "team-a") == ["1"]
    (setup.root / "environments" / "team-d.yml").unlink()
    setup.config("max_prune_share: 0.9\n")
    setup.commit("four of five, a larger share allowed")
    assert setup.envsync("apply", "--prune", "--auto-approve").exit_code == ExitCode.OK
    assert _active(setup, "team-a") == [] and _active(setup, "team-e") == ["1"]


def _target(setup: Setup) -> str:
    return "local" if setup.kind == "local" else "emu"


# -- 7: the dirty check covers what feeds the plan ---------------------------------------------


DIRTY = "error: the working tree has uncommitted changes"


def test_an_edit_to_an_unrelated_file_does_not_block_apply(setup: Setup) -> None:
    (setup.root / "README.md").write_text("# ours\n")
    write_env(setup.root, "team-a")
    setup.commit("seed")
    (setup.root / "README.md").write_text("# ours, edited\n")
    (setup.root / "notes.txt").write_text("untracked, unrelated\n")
    applied = setup.envsync("apply", "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.output
    space = setup.workspace()
    try:
        version = space.get_version("team-a", "1")
        assert version is not None
        assert version.body.properties["envsync.commit"] == setup.repo.head.commit.hexsha
    finally:
        space.close()


@pytest.mark.parametrize(
    "edit",
    [
        "environments/team-a.yml",
        "environments/team-a.conda.yml",
        "environments/ctx/Dockerfile",
        "envsync.yaml",
    ],
)
def test_an_uncommitted_change_to_a_plan_input_blocks_apply(setup: Setup, edit: str) -> None:
    (setup.root / "environments" / "ctx").mkdir(parents=True)
    (setup.root / "environments" / "ctx" / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (setup.root / "environments" / "team-a.conda.yml").write_text("dependencies: [python=3.11]\n")
    write_env(setup.root, "team-a", conda_file="team-a.conda.yml")
    write_env(setup.root, "team-ctx", build={"path": "ctx"})
    setup.commit("seed")
    with (setup.root / edit).open("a") as f:
        f.write("# edited\n")
    refused = setup.envsync("apply", "--auto-approve")
    assert refused.exit_code == ExitCode.ERROR
    assert DIRTY in refused.output


def test_an_untracked_environment_yaml_blocks_apply(setup: Setup) -> None:
    write_env(setup.root, "team-a")
    setup.commit("seed")
    write_env(setup.root, "team-new")
    refused = setup.envsync("apply", "--auto-approve")
    assert refused.exit_code == ExitCode.ERROR and DIRTY in refused.output


# -- 4: the emulator keeps workspaces apart, so the documented dev/prod example holds ----------


def _documented_config() -> str:
    """The envsync.yaml of docs/configuration.md, as written."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    return page.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_documented_dev_and_prod_example_holds_against_the_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    for name in ("base-cpu", "team-a", "team-b"):
        write_env(root, name)
    (root / "envsync.yaml").write_text(_documented_config())
    repo = git.Repo.init(root, initial_branch="main")
    commit(repo, "seed")
    monkeypatch.delenv("ENVSYNC_NO_GIT")
    monkeypatch.setenv("ENVSYNC_ARM_TOKEN", "docs-example-token")
    with start_emulator(page_size=50) as handle:  # the defaults, as `envsync emulator` starts
        monkeypatch.setenv("ENVSYNC_ARM_ENDPOINT", handle.url)
        assert run(root, "apply", "-t", "dev", "--auto-approve").exit_code == ExitCode.OK
        planned = run(root, "plan", "-t", "prod")
        assert planned.exit_code == ExitCode.OK, planned.output
        assert "Plan: 0 orphans, 3 to create, 0 new versions, 0 to update." in planned.output
        (root / "environments" / "team-b.yml").unlink()
        commit(repo, "team-b retired")
        pruned = run(root, "apply", "-t", "prod", "--prune", "--auto-approve")
        assert pruned.exit_code == ExitCode.OK, pruned.output
        assert "Plan: 0 to archive, 2 to create" in pruned.output
        dev = run(root, "plan", "-t", "dev")
        assert "- team-b:1  (orphan: archived only with --prune)" in dev.output
        assert "Plan: 1 orphan, 0 to create, 0 new versions, 0 to update." in dev.output


# -- 5: references: a broken or templated job is a warning; only the jobs are scanned ----------

TEMPLATED = """$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: blue
model:
  version: {{MODEL_VERSION}}
environment: azureml:team-a:1
"""


def test_a_templated_deployment_warns_and_never_blocks_the_plan(setup: Setup) -> None:
    write_env(setup.root, "team-a", version="1")
    (setup.root / "deploy").mkdir()
    (setup.root / "deploy" / "blue.yml").write_text(TEMPLATED)
    (setup.root / "deploy" / "green.yml").write_text("environment: azureml:{{ENV}}:1\n")
    setup.commit("a templated deployment")
    for command in (("validate",), ("plan",)):
        result = setup.envsync(*command)
        assert result.exit_code == ExitCode.OK, result.output
        assert "deploy/blue.yml:4:13: warning: invalid YAML" in result.output
        assert "its environment reference is not checked" in result.output
        assert "deploy/green.yml:1:14: warning: " in result.output
    assert setup.envsync("apply", "--auto-approve").exit_code == ExitCode.OK


def test_a_readable_reference_the_plan_would_break_still_fails_it(setup: Setup) -> None:
    write_env(setup.root, "team-a", version="1")
    (setup.root / "jobs").mkdir()
    (setup.root / "jobs" / "train.yml").write_text(
        "command: python train.py\nenvironment: azureml:team-a:2\n"
    )
    setup.commit("a job on a version nobody defines")
    result = setup.envsync("plan")
    assert result.exit_code == ExitCode.ERROR
    assert "jobs/train.yml:2:14: azureml:team-a:2: 'team-a' has no version 2" in result.output


def test_schema_tells_a_job_from_another_file_with_an_environment_key(setup: Setup) -> None:
    write_env(setup.root, "team-a", version="1")
    (setup.root / "other").mkdir()
    other = "$schema: https://json.schemastore.org/some-tool.json\nenvironment: production\n"
    (setup.root / "other" / "tool.yml").write_text(other)
    (setup.root / "jobs").mkdir()
    job = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\nenvironment: azureml:team-a:1\n"
    (setup.root / "jobs" / "train.yml").write_text(job)
    setup.commit("a tool's config and a job")
    result = setup.envsync("validate")
    assert result.exit_code == ExitCode.OK, result.output
    assert "other/tool.yml" not in result.output  # scanned as a job, 'production' would be an error


def test_envsync_yaml_and_ci_files_are_never_environments(setup: Setup) -> None:
    write_env(setup.root, "team-a", version="1")
    (setup.root / ".github" / "workflows").mkdir(parents=True)
    workflow = "name: ci\non: push\njobs: {}\n"
    (setup.root / ".github" / "workflows" / "ci.yml").write_text(workflow)
    setup.config('environments: ["**/*.yml", "**/*.yaml"]\n')
    setup.commit("every YAML is an environment, says the glob")
    for command in (("validate",), ("plan",)):
        result = setup.envsync(*command)
        assert result.exit_code == ExitCode.OK, result.output
    assert "team-a" not in setup.envsync("validate").output  # nothing wrong, nothing said about it
