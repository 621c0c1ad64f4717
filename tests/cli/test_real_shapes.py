"""Versions as the real service answers them (docs/real-service.md): `condaFile: ""` for every
version made without a conda spec, JSON text for one made with it. Each kind is created the way
az ml creates it (its request body, not envsync's), imported through the real CLI from the
`--realism` emulator, and the imported repository validates and plans "No changes."."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from envsync.content.context import context_digest
from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import ExitCode
from envsync.http.session import StaticTokenCredential
from envsync.workspace import VersionBody
from envsync.workspace.azure.workspace import AzureMLWorkspace
from tests.cli.conftest import TOKEN, azure_config
from tests.helpers import run, write_context

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
