"""The emulator's online and batch endpoints over HTTP: what the spec refuses is refused (400
naming it), a deployment needs its endpoint (404), answers are the spec's shapes, and the
request counters name what each request did."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from envsync.emulator.server import EmulatorHandle, start_emulator
from tests.workspace.deployments import BATCH, ONLINE, deployment_body, endpoint_body
from tests.workspace.emulator_fixtures import WORKSPACE

HEADERS = {"Authorization": "Bearer test"}
PARAMS = {"api-version": "2025-12-01"}


@pytest.fixture(scope="module")
def checked() -> Any:
    with start_emulator(isolate=True, page_size=2, check_responses=True) as handle:
        yield handle


def call(method: Any, url: str, **kwargs: Any) -> requests.Response:
    return method(url, params=PARAMS, headers=HEADERS, timeout=10, **kwargs)  # type: ignore[no-any-return]


def base(handle: EmulatorHandle) -> str:
    return handle.url + WORKSPACE.format(f"ws-{uuid.uuid4().hex[:8]}")


def test_a_deployment_is_created_read_and_listed(checked: EmulatorHandle) -> None:
    url = base(checked)
    made = call(requests.put, f"{url}/onlineEndpoints/churn-scoring", json=endpoint_body(ONLINE))
    assert made.status_code == 201, made.text
    body = deployment_body(ONLINE, "azureml:churn:1")
    first = call(requests.put, f"{url}/onlineEndpoints/churn-scoring/deployments/blue", json=body)
    again = call(requests.put, f"{url}/onlineEndpoints/churn-scoring/deployments/blue", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    got = call(requests.get, f"{url}/onlineEndpoints/churn-scoring/deployments/blue").json()
    assert got["properties"]["environmentId"] == "azureml:churn:1"
    assert got["properties"]["provisioningState"] == "Succeeded"
    assert got["type"] == "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"
    assert got["id"].endswith("/onlineEndpoints/churn-scoring/deployments/blue")


@pytest.mark.parametrize(
    ("path", "doc", "problem"),
    [
        ("onlineEndpoints/e1", {"properties": {"authMode": "Key"}}, "'location' is a required property"),
        ("onlineEndpoints/e1", {"location": "x", "properties": {}}, "'authMode' is a required property"),
        ("onlineEndpoints/e.1", endpoint_body(ONLINE), "does not match"),
        ("batchEndpoints/e1", {"location": "x", "properties": {"authMode": "Key", "traffic": {}}}, "traffic"),
    ],
)
def test_what_the_spec_refuses_is_refused(checked: EmulatorHandle, path: str, doc: Any, problem: str) -> None:
    answer = call(requests.put, f"{base(checked)}/{path}", json=doc)
    assert answer.status_code == 400
    assert problem in answer.json()["error"]["message"]


def test_a_deployment_needs_its_endpoint(checked: EmulatorHandle) -> None:
    url = base(checked)
    answer = call(
        requests.put,
        f"{url}/batchEndpoints/nightly/deployments/main",
        json=deployment_body(BATCH, "azureml:churn:1"),
    )
    assert answer.status_code == 404
    assert "Batch endpoint nightly not found" in answer.json()["error"]["message"]


def test_requests_are_counted_by_kind(checked: EmulatorHandle) -> None:
    url = base(checked)
    checked.reset_stats()
    call(requests.put, f"{url}/batchEndpoints/nightly", json=endpoint_body(BATCH))
    call(requests.get, f"{url}/batchEndpoints/nightly/deployments")
    call(requests.get, f"{url}/onlineEndpoints")
    kinds = checked.stats().by_kind
    assert kinds["batch.endpoints.put"] == 1
    assert kinds["batch.deployments.list"] == 1
    assert kinds["online.endpoints.list"] == 1
