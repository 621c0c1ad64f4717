"""Versions as the real service answers them (docs/real-service.md): `condaFile: ""` for every
version made without a conda spec, JSON text for one made with it. Each kind is created the way
az ml creates it (its request body, not envsync's), imported through the real CLI from the
`--realism` emulator, and the imported repository validates and plans "No changes."."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from envsync.content.context import context_digest
from envsync.emulator.polls import other_origin
from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import ExitCode
from envsync.http.origins import TRUSTED_ORIGINS_VARIABLE
from envsync.http.session import StaticTokenCredential
from envsync.workspace import VersionBody
from envsync.workspace.azure.workspace import AzureMLWorkspace
from tests.cli.conftest import TOKEN, azure_config
from tests.helpers import run, sample_repo, write_context, write_env

WS = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/{}"
API = {"api-version": "2025-12-01"}
AUTH = {"Authorization": f"Bearer {TOKEN}"}
IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1"
# azure-ai-ml sends the conda spec as YAML, keys sorted (azureml-api.md §4)
CONDA = "channels:\n- conda-forge\ndependencies:\n- python=3.10\n- pip\n- pip:\n  - pandas\nname: probe\n"


@pytest.fixture(scope="module")
def realism() -> Iterator[EmulatorHandle]:
    with start_emulator(isolate=True, realism=True, check_responses=True) as handle:
        yield handle


def _properties(kind: str, url: str, tmp_path: Path) -> dict[str, Any]:
    """The PUT body az ml sends for each kind of environment (recorded in azure-ai-ml's tests)."""
    props: dict[str, Any] = {"description": "made by az ml", "isAnonymous": False, "isArchived": False}
    if kind == "image":
        props["image"] = IMAGE
    elif kind == "conda":
        props.update(image=IMAGE, condaFile=CONDA)
    elif kind == "curated-based":  # a curated image, reused as is
        props["image"] = "mcr.microsoft.com/azureml/curated/sklearn-1.5:14"
    else:
        context = write_context(tmp_path / "src", "ctx")
        client = AzureMLWorkspace(url, StaticTokenCredential(TOKEN))
        props["build"] = {"contextUri": client.upload_context(context, context_digest(context))}
        client.close()
    return props


@pytest.mark.parametrize("kind", ["image", "conda", "build-context", "curated-based"])
def test_import_of_each_kind_validates_and_plans_no_changes(
    kind: str, realism: EmulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    url = realism.url + WS.format(workspace)
    body = {"properties": _properties(kind, url, tmp_path)}
    put = requests.put(
        f"{url}/environments/{kind}/versions/1", params=API, json=body, headers=AUTH, timeout=10
    )
    assert put.status_code == 201, put.text
    answered = put.json()["properties"]["condaFile"]
    if kind == "conda":
        assert json.loads(answered) == yaml.safe_load(CONDA)  # JSON text, the same content
    else:
        assert answered == ""
    realism.settle()
    root = tmp_path / "repo"
    root.mkdir()
    azure_config(root, realism.url, workspace=workspace)
    monkeypatch.setenv("ENVSYNC_ARM_TOKEN", TOKEN)
    imported = run(root, "import", "--out", str(root / "environments"))
    assert imported.exit_code == ExitCode.OK, imported.output
    written = sorted(p.name for p in (root / "environments").iterdir())
    assert (f"{kind}.conda.yml" in written) == (kind == "conda")
    doc = yaml.safe_load((root / "environments" / f"{kind}.yml").read_text())
    assert ("conda_file" in doc) == (kind == "conda")
    if kind == "conda":  # written back as YAML, not the JSON the service answered with
        conda = (root / "environments" / "conda.conda.yml").read_text()
        assert not conda.lstrip().startswith("{") and yaml.safe_load(conda) == yaml.safe_load(CONDA)
    validated = run(root, "validate")
    assert validated.exit_code == ExitCode.OK, validated.output
    planned = run(root, "plan", "--detailed-exitcode")
    assert planned.exit_code == ExitCode.OK, planned.output
    assert "No changes." in planned.output
    shown = yaml.safe_load(run(root, "show", f"{kind}:1").output)
    assert ("conda_file" in shown) == (kind == "conda")


@pytest.mark.parametrize("text", ["", "  \n", None])
def test_blank_conda_text_is_no_conda_spec(text: str | None) -> None:
    body = VersionBody(image=IMAGE, conda_file=text)
    assert body.conda_file is None
    assert body.content() == VersionBody(image=IMAGE).content()


# -- plan, apply, drift, import and a re-plan converge on the real shapes ------------------------


def _converges(root: Path, fresh: Path, handle: EmulatorHandle) -> None:
    assert run(root, "plan").exit_code == ExitCode.OK
    applied = run(root, "apply", "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.output
    for args in (("plan", "--detailed-exitcode"), ("drift",)):
        again = run(root, *args)
        assert again.exit_code == ExitCode.OK, again.output
    shutil.copy(root / "envsync.yaml", fresh / "envsync.yaml")
    handle.settle()  # import lists what the workspace holds: once the lists caught up
    imported = run(fresh, "import", "--out", str(fresh / "environments"))
    assert imported.exit_code == ExitCode.OK, imported.output
    assert "3 environments imported." in imported.output
    replanned = run(fresh, "plan", "--detailed-exitcode")
    assert replanned.exit_code == ExitCode.OK, replanned.output
    assert "No changes." in replanned.output


def test_a_workspace_converges_on_the_real_shapes(
    realism: EmulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, fresh = sample_repo(tmp_path / "repo"), tmp_path / "fresh"
    fresh.mkdir()
    azure_config(root, realism.url, workspace=f"ws-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("ENVSYNC_ARM_TOKEN", TOKEN)
    _converges(root, fresh, realism)
    write_env(root, "sklearn", image="mcr.microsoft.com/azureml/other:2")  # nextVersion: a timestamp
    assert "Apply complete: 0 created, 1 new version" in run(root, "apply", "--auto-approve").output
    assert "No changes." in run(root, "plan").output
    realism.settle()
    assert [v for v in _versions(realism, root, "sklearn")] == ["2", "1"]


def _versions(handle: EmulatorHandle, root: Path, name: str) -> list[str]:
    workspace = yaml.safe_load((root / "envsync.yaml").read_text())["targets"]["emu"]["workspace"]
    client = AzureMLWorkspace(handle.url + WS.format(workspace), StaticTokenCredential(TOKEN))
    try:
        return [v.version for v in client.list_versions(name)]
    finally:
        client.close()


def _registry_config(root: Path, url: str) -> None:
    (root / "envsync.yaml").write_text(
        "default_target: reg\ntargets:\n"
        f"  reg: {{type: registry, subscription_id: sub, resource_group: rg,"
        f" registry: reg-{uuid.uuid4().hex[:8]}, endpoint: '{url}'}}\n"
    )


def test_a_registry_converges_when_its_operation_host_is_trusted(
    realism: EmulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, fresh = sample_repo(tmp_path / "repo"), tmp_path / "fresh"
    fresh.mkdir()
    _registry_config(root, realism.url)
    monkeypatch.setenv("ENVSYNC_ARM_TOKEN", TOKEN)
    monkeypatch.setenv(TRUSTED_ORIGINS_VARIABLE, other_origin(realism.url))
    _converges(root, fresh, realism)


def test_a_registry_apply_refuses_an_untrusted_operation_host_at_once(
    realism: EmulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    write_env(root, "base-cpu", version="1")
    _registry_config(root, realism.url)
    monkeypatch.setenv("ENVSYNC_ARM_TOKEN", TOKEN)
    monkeypatch.delenv(TRUSTED_ORIGINS_VARIABLE, raising=False)
    started = time.monotonic()
    applied = run(root, "apply", "--auto-approve")
    assert time.monotonic() - started < 10
    assert applied.exit_code == ExitCode.ERROR, applied.output
    assert "the operation URL is on localhost, not 127.0.0.1" in applied.output
    assert "Traceback" not in applied.output
