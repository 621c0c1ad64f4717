"""The emulator's independent request check against the REST spec subset: the spec's own
examples pass, each kind of violation is caught and named, and over HTTP the emulator answers
it with 400."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.emulator.spec_check import Spec, load_spec
from envsync.workspace import BuildContext, VersionBody
from envsync.workspace.azure import armjson

SPEC = load_spec()
WS = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws-{}"
VERSION = ["environments", "env", "versions", "1"]


def examples() -> Iterator[tuple[str, str, str, Any]]:
    for op in SPEC.doc["operations"]:
        example = SPEC.doc["examples"].get(op["example"], {})
        if op.get("body") and "request" in example:
            yield op["operationId"], "request", op["body"], example["request"]
        for code, name in op["responses"].items():
            if code in example:
                yield op["operationId"], "response", name, example[code]


@pytest.mark.parametrize(
    ("op", "mode", "name", "doc"), list(examples()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_the_specs_own_examples_pass(op: str, mode: str, name: str, doc: Any) -> None:
    errors = list(SPEC._validator(name, mode).iter_errors(doc))
    assert not errors, [e.message for e in errors]


def test_every_operation_has_an_example_checked() -> None:
    assert {op for op, *_ in examples()} == {op["operationId"] for op in SPEC.doc["operations"]}


def put(spec: Spec, props: dict[str, Any], parts: list[str] = VERSION) -> str | None:
    return spec.request_problem(
        "PUT", "ws-1", parts, {"api-version": "2025-12-01"}, json.dumps({"properties": props}).encode()
    )


@pytest.mark.parametrize(
    ("props", "problem"),
    [
        ({"image": 1}, "body.properties.image: 1 is not of type 'string'"),
        ({"imagex": "a"}, "Additional properties are not allowed ('imagex' was unexpected)"),
        ({"environmentType": "Curated"}, "body.properties.environmentType"),
        ({"provisioningState": "Succeeded"}, "body.properties.provisioningState"),
        ({"build": {"dockerfilePath": "Dockerfile"}}, "'contextUri' is a required property"),
        ({"osType": "Solaris"}, "'Solaris' is not one of ['Linux', 'Windows']"),
        (
            {"inferenceConfig": {"scoringRoute": {"path": "/s", "port": "80"}}},
            "'80' is not of type 'integer'",
        ),
        ({"tags": {"a": 1}}, "body.properties.tags.a"),
    ],
)
def test_body_violations_are_named(props: dict[str, Any], problem: str) -> None:
    found = put(SPEC, props)
    assert found is not None and problem in found


def test_nulls_the_spec_allows_pass() -> None:
    props = {
        "description": None,
        "stage": None,
        "inferenceConfig": {"startupRoute": None},
        "tags": {"a": None},
    }
    assert put(SPEC, props) is None


def test_the_clients_bodies_pass() -> None:
    body = VersionBody(
        build=BuildContext(
            "https://a.blob.core.windows.net/c/LocalUpload/" + "a" * 64 + "/d/", "x/Dockerfile"
        ),
        conda_file="name: x\n",
        os_type="windows",
        inference_config={
            "livenessRoute": {"path": "/l", "port": 1},
            "scoringRoute": {"path": "/s", "port": 2},
        },
        description="d",
        tags={"t": "1"},
        properties={"envsync.fingerprint": "f" * 64},
        archived=True,
    )
    assert put(SPEC, armjson.version_request(body)["properties"]) is None
    resource = armjson.version_resource(
        "/ws",
        armjson.version_from_json(
            "env", {"name": "1", "properties": armjson.version_request(body)["properties"]}
        ),
    )
    assert put(SPEC, armjson.resend_version(resource, tags={})["properties"]) is None
    container = {"properties": {"tags": {}, "isArchived": False, "latestVersion": "1", "nextVersion": "2"}}
    assert put(SPEC, armjson.resend_container(container)["properties"], ["environments", "env"]) is None
    assert put(SPEC, {"latestVersion": "2"}, ["environments", "env"]) is not None  # read-only


@pytest.mark.parametrize(
    ("method", "workspace", "parts", "query", "problem"),
    [
        (
            "GET",
            "ws-1",
            ["environments"],
            {"$top": "5"},
            "query parameter '$top' is not one of EnvironmentContainers_List's",
        ),
        ("GET", "ws-1", ["environments", "e", "versions"], {"$top": "five"}, "'five' is not an integer"),
        (
            "GET",
            "ws-1",
            ["environments"],
            {"listViewType": "Everything"},
            "is not one of ['ActiveOnly', 'ArchivedOnly', 'All']",
        ),
        ("DELETE", "ws-1", ["environments", "e"], {}, "the spec has no operation DELETE /environments/e"),
        ("GET", "ws-1", ["models"], {}, "the spec has no operation GET /models"),
        ("GET", "w", ["environments"], {}, "workspaceName 'w' does not match"),
        ("PUT", "ws-1", ["environments", "has.dot", "versions", "1"], {}, "name 'has.dot' does not match"),
    ],
)
def test_paths_and_query_violations_are_named(
    method: str, workspace: str, parts: list[str], query: dict[str, str], problem: str
) -> None:
    body = json.dumps({"properties": {}}).encode() if method == "PUT" else b""
    found = SPEC.request_problem(method, workspace, parts, {"api-version": "2025-12-01", **query}, body)
    assert found is not None and problem in found


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(isolate=True) as handle:
        yield handle


def test_the_emulator_answers_a_violation_with_400(emulator: EmulatorHandle) -> None:
    url = emulator.url + WS.format("check") + "/environments/env/versions/1"
    auth = {"Authorization": "Bearer t"}
    sent = {"properties": {"image": "i", "environmentType": "UserCreated"}}
    got = requests.put(url, params={"api-version": "2025-12-01"}, json=sent, headers=auth, timeout=5)
    assert got.status_code == 400
    error = got.json()["error"]
    assert error["code"] == "UserError" and "mfe.json 2025-12-01" in error["message"]
    assert "environmentType" in error["message"]
    # The emulator has no spec for other api-versions it serves: those are not checked.
    older = requests.put(url, params={"api-version": "2024-10-01"}, json=sent, headers=auth, timeout=5)
    assert older.status_code == 201
