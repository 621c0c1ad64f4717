"""Pipeline jobs and components name environments per step: `validate` and `plan` check each
step's reference at its own line, by the same rules as a command job's, and the plan lists the
steps among what picks up a new version. The real CLI on the local workspace."""

from __future__ import annotations

from pathlib import Path

from envsync.errors import ExitCode
from envsync.spec.pipelines import step_environments
from tests.helpers import run, write_env

PIPELINE = """\
$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
display_name: churn-training
jobs:
  prep:
    type: command
    command: python prep.py
    environment: {prep}
  train:
    type: pipeline
    component:
      type: pipeline
      jobs:
        fit:
          type: command
          component:
            type: command
            command: python fit.py
            environment: {fit}
"""


def pipeline(root: Path, prep: str = "azureml:sklearn@latest", fit: str = "azureml:sklearn:1") -> Path:
    path = root / "pipelines" / "churn.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PIPELINE.format(prep=prep, fit=fit))
    return path


def test_step_environments_of_nested_pipelines() -> None:
    data = {
        "type": "pipeline",
        "jobs": {"a": {"environment": "x"}, "b": {"jobs": {"c": {"component": {"environment": "y"}}}}},
    }
    assert list(step_environments(data)) == [
        (("jobs", "a", "environment"), "a"),
        (("jobs", "b", "jobs", "c", "component", "environment"), "b.c"),
    ]
    assert list(step_environments({"type": "pipeline", "jobs": ["not", "steps"]})) == []
    assert list(step_environments({"jobs": data["jobs"]})) == []  # no `type: pipeline`: not a pipeline


GITHUB_DEPLOY_JOB = """\
on: {push: {branches: [main]}}
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps: [{run: echo deploy}]
"""


def test_a_github_workflow_with_a_deployment_environment_is_no_pipeline(sample: Path) -> None:
    # `jobs.<job>.environment` in a workflow is GitHub's deployment environment, not Azure ML's.
    workflow = sample / ".github" / "workflows" / "docs.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(GITHUB_DEPLOY_JOB)
    for command in ("validate", "plan"):
        result = run(sample, command)
        assert result.exit_code == ExitCode.OK, result.output
        assert "docs.yml" not in result.output


def test_validate_fails_at_the_step_that_names_no_version(sample: Path) -> None:
    pipeline(sample, prep="azureml:sklearn")
    result = run(sample, "validate")
    assert result.exit_code == ExitCode.ERROR, result.output
    assert (
        "pipelines/churn.yml:8:18: error: jobs.prep: 'azureml:sklearn' names no version: "
        "write azureml:sklearn:VERSION or azureml:sklearn@latest"
    ) in result.output


def test_validate_fails_at_a_nested_step_naming_an_unknown_environment(sample: Path) -> None:
    pipeline(sample, fit="azureml:nope:1")
    result = run(sample, "validate")
    assert result.exit_code == ExitCode.ERROR
    assert (
        "pipelines/churn.yml:19:26: error: azureml:nope:1: no environment 'nope' in the repo" in result.output
    )


def test_plan_fails_at_the_step_that_names_a_missing_version(sample: Path) -> None:
    assert run(sample, "apply", "--auto-approve").exit_code == ExitCode.OK
    pipeline(sample, fit="azureml:sklearn:9")
    result = run(sample, "plan")
    assert result.exit_code == ExitCode.ERROR, result.output
    assert "pipelines/churn.yml:19:26: azureml:sklearn:9: 'sklearn' has no version 9 (known versions: 1)" in (
        result.output
    )


def test_a_valid_pipeline_is_listed_under_the_version_it_picks_up(sample: Path) -> None:
    assert run(sample, "apply", "--auto-approve").exit_code == ExitCode.OK
    pipeline(sample, fit="azureml:sklearn:2")
    write_env(sample, "sklearn", image="mcr.microsoft.com/azureml/other:2")
    result = run(sample, "plan")
    assert result.exit_code == ExitCode.OK, result.output
    assert "+ sklearn:2  (new version, latest is 1)" in result.output
    assert "# used by pipelines/churn.yml:8 (step prep: azureml:sklearn@latest)" in result.output
    assert "# used by pipelines/churn.yml:19 (step train.fit: azureml:sklearn:2)" in result.output


def test_a_component_file_is_checked_like_a_job(sample: Path) -> None:
    component = sample / "components" / "fit.yml"
    component.parent.mkdir()
    component.write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json\n"
        "type: command\nname: fit\ncommand: python fit.py\nenvironment: azureml:sklearn@newest\n"
    )
    result = run(sample, "validate")
    assert result.exit_code == ExitCode.ERROR
    assert (
        "components/fit.yml:5:14: error: 'azureml:sklearn@newest': environments have only the label @latest, "
        "not @newest"
    ) in result.output
