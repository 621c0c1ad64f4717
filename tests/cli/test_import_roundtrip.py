"""list, show and import through the real CLI on the local workspace, and references in plans.

The round trip: apply a repo's environments, import them from the workspace into a fresh repo,
and plan that repo against the same workspace: nothing to change.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from envsync.content.context import context_digest
from envsync.errors import ExitCode
from envsync.workspace import ListView
from envsync.workspace.local.workspace import LocalWorkspace
from tests.helpers import run, write_env

EXAMPLES = Path(__file__).resolve().parents[2] / "environments"
CORPUS = Path("/work/shared/corpus/Azure__azureml-examples")
TFSERVING = (
    CORPUS / "cli__endpoints__online__custom-container__tfserving__half-plus-two__tfserving-deployment.yml"
)
ROUTES = {
    "liveness_route": {"path": "/health/live", "port": 8000},
    "readiness_route": {"path": "/health/ready", "port": 8000},
    "scoring_route": {"path": "/score", "port": 8000},
}


@pytest.fixture
def applied(tmp_path: Path) -> Path:
    """A repo holding the example environments (image, inline conda, conda file, build
    context, inference routes), applied to its local workspace."""
    root = tmp_path / "a"
    shutil.copytree(EXAMPLES, root / "environments")
    result = run(root, "apply", "--auto-approve")
    assert result.exit_code == ExitCode.OK, result.output
    return root


def db_env(root: Path) -> dict[str, str]:
    return {"ENVSYNC_DB": str(root / ".envsync" / "workspace.db")}


def test_import_then_plan_has_no_changes(applied: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "b"
    fresh.mkdir()
    out = fresh / "environments"
    result = run(fresh, "import", "--out", str(out), env=db_env(applied))
    assert result.exit_code == ExitCode.OK, result.output
    assert "5 environments imported." in result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "lightgbm-cpu.conda.yml",
        "lightgbm-cpu.yml",
        "minimal-cpu.yml",
        "pytorch-train.yml",
        "pytorch-train/context/Dockerfile",
        "pytorch-train/context/requirements.txt",
        "sklearn-cpu.conda.yml",
        "sklearn-cpu.yml",
        "sklearn-serve.yml",
    ]
    built = applied / "environments" / "pytorch-train"
    assert context_digest(out / "pytorch-train" / "context") == context_digest(built)
    assert 'version: "1"' in (out / "minimal-cpu.yml").read_text()
    planned = run(fresh, "plan", "--detailed-exitcode", env=db_env(applied))
    assert planned.exit_code == ExitCode.OK, planned.output
    assert "No changes." in planned.output


def test_import_never_overwrites_without_force(applied: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(applied, "import", "--name", "lightgbm-cpu", "--out", str(out)).exit_code == ExitCode.OK
    (out / "lightgbm-cpu.yml").write_text("mine\n")
    again = run(applied, "import", "--name", "lightgbm-cpu", "--out", str(out))
    assert again.exit_code == ExitCode.ERROR
    assert f"{out}/lightgbm-cpu.yml: exists" in again.output
    assert "2 files already in" in again.output
    assert (out / "lightgbm-cpu.yml").read_text() == "mine\n"
    forced = run(applied, "import", "--name", "lightgbm-cpu", "--out", str(out), "--force")
    assert forced.exit_code == ExitCode.OK, forced.output
    assert yaml.safe_load((out / "lightgbm-cpu.yml").read_text())["name"] == "lightgbm-cpu"


def test_import_refuses_curated_and_unknown_names(applied: Path, tmp_path: Path) -> None:
    curated = next(c.name for c in workspace(applied).list_environments() if c.curated)
    result = run(applied, "import", "--name", curated, "--out", str(tmp_path / "o"))
    assert result.exit_code == ExitCode.ERROR
    assert "curated environments are never imported" in result.output
    result = run(applied, "import", "--name", "nope", "--out", str(tmp_path / "o"))
    assert "error: no active environment 'nope'" in result.output
    assert not (tmp_path / "o").exists()


def workspace(root: Path) -> LocalWorkspace:
    return LocalWorkspace(root / ".envsync" / "workspace.db")


def test_list_hides_curated_and_archived_unless_asked(applied: Path) -> None:
    workspace(applied).set_archived("minimal-cpu", None, True)
    listed = run(applied, "list")
    assert listed.exit_code == ExitCode.OK, listed.output
    names = [line.split()[0] for line in listed.output.splitlines()[1:]]
    assert names == ["lightgbm-cpu", "pytorch-train", "sklearn-cpu", "sklearn-serve"]
    assert listed.output.splitlines()[0].split() == ["NAME", "LATEST", "VERSION", "CREATED"]
    everything = json.loads(run(applied, "list", "--archived", "--curated", "--format", "json").output)
    assert {"minimal-cpu", "lightgbm-cpu"} <= {row["name"] for row in everything}
    assert any(row["curated"] for row in everything)
    assert next(r for r in everything if r["name"] == "minimal-cpu")["archived"] is True


def test_list_versions_of_one_environment(applied: Path) -> None:
    write_env(applied, "lightgbm-cpu", image="mcr.microsoft.com/azureml/other:2")
    assert run(applied, "apply", "--auto-approve").exit_code == ExitCode.OK
    listed = run(applied, "list", "--name", "lightgbm-cpu")
    assert [line.split()[1] for line in listed.output.splitlines()[1:]] == ["2", "1"]
    docs = json.loads(run(applied, "list", "--name", "lightgbm-cpu", "--format", "json").output)
    assert [d["version"] for d in docs] == ["2", "1"]
    missing = run(applied, "list", "--name", "nope")
    assert missing.exit_code == ExitCode.ERROR
    assert "no environment 'nope'" in missing.output


def test_show_like_az_ml(applied: Path) -> None:
    result = run(applied, "show", "azureml:sklearn-serve:1")
    assert result.exit_code == ExitCode.OK, result.output
    doc = yaml.safe_load(result.output)
    assert (doc["name"], doc["version"], doc["inference_config"]) == ("sklearn-serve", "1", ROUTES)
    assert doc["tags"] == {"purpose": "online-inference"}
    conda = yaml.safe_load(run(applied, "show", "lightgbm-cpu").output)["conda_file"]
    assert conda["dependencies"][:2] == ["python=3.11", "pip"]
    torch = json.loads(run(applied, "show", "pytorch-train@latest", "--format", "json").output)
    digest = context_digest(applied / "environments" / "pytorch-train")
    assert torch["build"]["path"].endswith(f"/{digest}/pytorch-train/")
    assert torch["build"]["dockerfile_path"] == "Dockerfile"
    assert torch["creation_context"]["created_at"]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("nope", "error: no environment 'nope'"),
        ("sklearn-serve:9", "error: environment 'sklearn-serve' has no version 9"),
        ("sklearn-serve@prod", "only the label @latest"),
    ],
)
def test_show_errors(applied: Path, ref: str, message: str) -> None:
    result = run(applied, "show", ref)
    assert result.exit_code == ExitCode.ERROR
    assert message in result.output


def test_show_latest_skips_archived_versions(applied: Path) -> None:
    write_env(applied, "lightgbm-cpu", image="mcr.microsoft.com/azureml/other:2")
    assert run(applied, "apply", "--auto-approve").exit_code == ExitCode.OK
    workspace(applied).set_archived("lightgbm-cpu", "2", True)
    assert yaml.safe_load(run(applied, "show", "lightgbm-cpu").output)["version"] == "1"
    assert [v.version for v in workspace(applied).list_versions("lightgbm-cpu", ListView.ALL)] == ["2", "1"]


# -- references in plan and validate ------------------------------------------------------------


def write_job(root: Path, rel: str, environment: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
        f"command: python train.py\nenvironment: {environment}\n"
    )


def test_plan_lists_the_jobs_a_new_version_affects(applied: Path) -> None:
    write_job(applied, "jobs/train.yml", "azureml:lightgbm-cpu@latest")
    write_job(applied, "jobs/pinned.yml", "azureml:lightgbm-cpu:1")
    write_job(
        applied, "jobs/curated.yml", "azureml://registries/azureml/environments/sklearn-1.5/labels/latest"
    )
    write_env(applied, "lightgbm-cpu", image="mcr.microsoft.com/azureml/other:2")
    result = run(applied, "plan")
    assert result.exit_code == ExitCode.OK, result.output
    assert "+ lightgbm-cpu:2  (new version, latest is 1)" in result.output
    assert "    # used by jobs/train.yml:3 (azureml:lightgbm-cpu@latest)\n" in result.output
    assert "pinned.yml" not in result.output


def test_plan_fails_on_unknown_references_at_their_line(applied: Path) -> None:
    write_job(applied, "jobs/train.yml", "azureml:lightgbm-cpu:7")
    write_job(applied, "deploy/blue.yml", "azureml:nope@latest")
    shutil.copy(TFSERVING, applied / "deploy" / "tfserving.yml")
    result = run(applied, "plan")
    assert result.exit_code == ExitCode.ERROR
    assert (
        "jobs/train.yml:3:14: azureml:lightgbm-cpu:7: 'lightgbm-cpu' has no version 7 (known versions: 1)"
        in result.output
    )
    assert "deploy/blue.yml:3:14: azureml:nope@latest: no environment 'nope'" in result.output
    assert "deploy/tfserving.yml:6:13: warning: invalid YAML: found unhashable key" in result.output
    assert "Traceback" not in result.output


def test_plan_accepts_references_to_what_it_creates_and_to_curated(applied: Path) -> None:
    write_env(applied, "fresh", version="5")
    write_job(applied, "jobs/train.yml", "azureml:fresh:5")
    curated = next(c for c in workspace(applied).list_environments() if c.curated)
    write_job(applied, "jobs/curated.yml", f"azureml:{curated.name}:{curated.latest_version}")
    result = run(applied, "plan")
    assert result.exit_code == ExitCode.OK, result.output
    assert "# used by jobs/train.yml:3 (azureml:fresh:5)" in result.output
