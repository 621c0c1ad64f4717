"""The JSON the client sends and parses, pinned against bodies modelled on the REST spec's own
examples (mfe.json 2025-12-01: Workspace/EnvironmentVersion/createOrUpdate.json and get.json,
Workspace/EnvironmentContainer/get.json, Datastore/get.json). Requests are captured by a real
HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from envsync.http.session import HttpOptions, StaticTokenCredential
from envsync.workspace import BuildContext, VersionBody
from envsync.workspace.azure.workspace import AzureMLWorkspace
from tests.workspace.recorder import Answer, Seen, recording, sequence

GOLDEN = Path(__file__).parent.parent / "data" / "golden"
WS = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws-ml"


def golden(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text())


def client(url: str) -> AzureMLWorkspace:
    return AzureMLWorkspace(url + WS, StaticTokenCredential("t0ken-for-tests"), http=HttpOptions(retries=0))


def echo(seen: Seen) -> Answer:
    return Answer(201, {"name": seen.path.rsplit("/", 1)[-1], **seen.json()})


def test_create_version_sends_the_spec_shape() -> None:
    body = VersionBody(
        image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1",
        conda_file="channels:\n- conda-forge\ndependencies:\n- python=3.11\n- pip\nname: train\n",
        inference_config={
            "livenessRoute": {"path": "/live", "port": 5001},
            "readinessRoute": {"path": "/ready", "port": 5001},
            "scoringRoute": {"path": "/score", "port": 5001},
        },
        description="PyTorch training image",
        tags={"team": "vision"},
        properties={"envsync.fingerprint": "0f3c9a"},
    )
    with recording(echo) as server:
        got = client(server.url).create_version("train", "4", body)
    (put,) = server.seen
    assert (put.method, put.path) == ("PUT", f"{WS}/environments/train/versions/4")
    assert put.query == {"api-version": "2025-12-01"}
    assert put.headers["content-type"] == "application/json"
    assert put.json() == golden("version_put_request.json")
    assert got.body == body  # and the echoed resource parses back to what was sent


def test_build_context_version_body() -> None:
    uri = golden("version_put_build_request.json")["properties"]["build"]["contextUri"]
    body = VersionBody(build=BuildContext(uri, "docker/Dockerfile"))
    with recording(echo) as server:
        client(server.url).create_version("ctx", "1", body)
    assert server.seen[0].json() == golden("version_put_build_request.json")


def test_get_version_parses_every_field() -> None:
    with recording(sequence(Answer(200, golden("version_get_response.json")))) as server:
        got = client(server.url).get_version("train", "3")
    assert got is not None
    assert (got.name, got.version, got.created, got.curated) == (
        "train",
        "3",
        "2025-03-04T05:06:07.890Z",
        False,
    )
    assert got.body == VersionBody(
        image="docker.io/library/python:3.11-slim",
        conda_file="dependencies:\n- python=3.11\n",
        os_type="linux",
        description="hand made",
        tags={"owner": "ana"},
        archived=True,
    )


def test_curated_versions_are_recognised() -> None:
    with recording(sequence(Answer(200, golden("curated_version_response.json")))) as server:
        got = client(server.url).get_version("AzureML-sklearn-1.5", "12")
    assert got is not None and got.curated


def test_update_version_puts_back_everything_it_read() -> None:
    """GET then PUT: read-only fields dropped, unknown ones (autoRebuild, stage) and isArchived kept."""
    answers = sequence(
        Answer(200, golden("version_get_response.json")), Answer(200, golden("version_get_response.json"))
    )
    with recording(answers) as server:
        client(server.url).update_version(
            "train", "3", description="edited by envsync", tags={"owner": "ana", "team": "ml"}
        )
    get, put = server.seen
    assert (get.method, put.method) == ("GET", "PUT")
    assert put.json() == golden("version_update_request.json")


def test_container_parse_and_archive_round_trip() -> None:
    resource = golden("container_get_response.json")
    with recording(sequence(Answer(200, resource), Answer(200, resource))) as server:
        ws = client(server.url)
        ws.set_archived("train", None, True)
    get, put = server.seen
    assert put.path == f"{WS}/environments/train"
    assert put.json() == golden("container_archive_request.json")
    with recording(sequence(Answer(200, resource))) as server:
        container = client(server.url).get_environment("train")
    assert container is not None
    assert (container.latest_version, container.next_version, container.curated) == ("3", "4", False)
    assert container.tags == {"envsync.last-applied": "{}"} and container.properties == {"origin": "git"}


def test_list_versions_asks_newest_first() -> None:
    with recording(sequence(Answer(200, {"value": [golden("version_get_response.json")]}))) as server:
        (got,) = client(server.url).list_versions("train")
    assert got.version == "3"
    assert server.seen[0].query == {
        "api-version": "2025-12-01",
        "$orderBy": "createdtime desc",
        "listViewType": "ActiveOnly",
    }
