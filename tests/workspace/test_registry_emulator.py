"""The emulator's registries over real HTTP: ARM routes and types, writes as long-running
operations (InProgress, then Succeeded or Failed), the data plane's temporary data references,
ARM throttling and the counters. Operation timing itself is tested on a fake clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from envsync.emulator.operations import FAILED, IN_PROGRESS, SUCCEEDED, Operations
from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import ConflictError

REG = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/registries/{}"
AUTH = {"Authorization": "Bearer anything"}
API = {"api-version": "2025-12-01"}
BODY = {"properties": {"image": "python:3.11", "tags": {"t": "1"}, "properties": {}, "isAnonymous": False}}


@pytest.fixture(scope="module")
def instant() -> Iterator[EmulatorHandle]:
    """Operations end at the first look."""
    with start_emulator(page_size=2) as handle:
        yield handle


@pytest.fixture(scope="module")
def slow() -> Iterator[EmulatorHandle]:
    """Operations that stay InProgress for an hour: never ended during a test."""
    with start_emulator(operation_seconds=3600) as handle:
        yield handle


def registry(handle: EmulatorHandle) -> str:
    return handle.url + REG.format(f"reg-{uuid.uuid4().hex[:10]}")


def call(method: str, url: str, body: Any = None, **params: str) -> requests.Response:
    query = {**API, **params} if "api-version" not in url else None
    return requests.request(method, url, params=query, json=body, headers=AUTH, timeout=5)


def test_a_new_version_is_an_operation_then_a_plain_read(instant: EmulatorHandle) -> None:
    reg = registry(instant)
    put = call("PUT", f"{reg}/environments/py/versions/1", BODY)
    assert put.status_code == 201
    status_url = put.headers["Azure-AsyncOperation"]
    assert "/providers/Microsoft.MachineLearningServices/locations/eastus/mfeOperationsStatus/" in status_url
    assert (
        status_url.startswith(instant.url + "/subscriptions/s1/") and "api-version=2025-12-01" in status_url
    )
    assert put.headers["Retry-After"] == "0" and put.headers["x-ms-async-operation-timeout"] == "PT1H"
    assert put.json()["properties"]["provisioningState"] == "Creating"
    status = call("GET", status_url).json()
    assert status["status"] == SUCCEEDED and status["name"] in status_url and "endTime" in status
    got = call("GET", f"{reg}/environments/py/versions/1").json()
    assert got["type"] == "Microsoft.MachineLearningServices/registries/environments/versions"
    assert got["id"].endswith("/registries/" + reg.rsplit("/", 1)[1] + "/environments/py/versions/1")
    assert (
        got["properties"]["image"] == "python:3.11" and got["properties"]["provisioningState"] == "Succeeded"
    )
    listed = call("GET", f"{reg}/environments").json()["value"]
    assert [(c["name"], c["type"]) for c in listed] == [
        ("py", "Microsoft.MachineLearningServices/registries/environments")
    ]


def test_a_registry_holds_only_what_was_pushed_to_it(instant: EmulatorHandle) -> None:
    assert call("GET", f"{registry(instant)}/environments", listViewType="All").json()["value"] == []


def test_an_operation_in_progress_is_invisible_to_reads(slow: EmulatorHandle) -> None:
    reg = registry(slow)
    put = call("PUT", f"{reg}/environments/py/versions/1", BODY)
    assert put.status_code == 201 and 3590 <= int(put.headers["Retry-After"]) <= 3600
    status = call("GET", put.headers["Azure-AsyncOperation"])
    assert status.json()["status"] == IN_PROGRESS and int(status.headers["Retry-After"]) > 3500
    assert call("GET", f"{reg}/environments/py/versions/1").status_code == 404
    assert call("GET", f"{reg}/environments/py").status_code == 404
    assert slow.operations_in_progress() >= 1
    result = put.headers["Azure-AsyncOperation"].replace("mfeOperationsStatus", "mfeOperationResults")
    location = call("GET", result)
    assert location.status_code == 202 and "mfeOperationResults" in location.headers["Location"]
    # A second PUT of the same version while the first runs is another operation, not a 409.
    assert call("PUT", f"{reg}/environments/py/versions/1", BODY).status_code == 201


def test_a_failed_operation_carries_an_arm_error_and_writes_nothing() -> None:
    with start_emulator(operation_failure_rate=0.999, seed=1) as handle:
        reg = registry(handle)
        put = call("PUT", f"{reg}/environments/py/versions/1", BODY)
        status = call("GET", put.headers["Azure-AsyncOperation"]).json()
        assert status["status"] == FAILED
        assert status["error"]["code"] == "InternalServerError" and status["error"]["message"]
        assert call("GET", f"{reg}/environments/py/versions/1").status_code == 404
        result = put.headers["Azure-AsyncOperation"].replace("mfeOperationsStatus", "mfeOperationResults")
        assert call("GET", result).status_code == 400


def test_writes_to_existing_assets_are_done_at_once(instant: EmulatorHandle) -> None:
    reg = registry(instant)
    call("GET", call("PUT", f"{reg}/environments/py/versions/1", BODY).headers["Azure-AsyncOperation"])
    retagged = {"properties": {**BODY["properties"], "tags": {"t": "2"}, "isArchived": True}}
    again = call("PUT", f"{reg}/environments/py/versions/1", retagged)
    assert again.status_code == 200 and "Azure-AsyncOperation" not in again.headers
    assert again.json()["properties"]["tags"] == {"t": "2"} and again.json()["properties"]["isArchived"]
    other = {"properties": {**BODY["properties"], "image": "python:3.12"}}
    refused = call("PUT", f"{reg}/environments/py/versions/1", other)
    assert (
        refused.status_code == 409
        and "already registered and cannot be changed" in refused.json()["error"]["message"]
    )
    container = call("GET", f"{reg}/environments/py").json()
    tagged = call("PUT", f"{reg}/environments/py", {"properties": {"tags": {"envsync.last-applied": "{}"}}})
    assert tagged.status_code == 200 and tagged.json()["properties"]["tags"] == {"envsync.last-applied": "{}"}
    assert container["properties"]["latestVersion"] == "1"


@pytest.mark.parametrize("name", ["AzureML-mine", "has.dot", "-x"])
def test_bad_names_are_refused_before_any_operation(instant: EmulatorHandle, name: str) -> None:
    refused = call("PUT", f"{registry(instant)}/environments/{name}/versions/1", BODY)
    assert refused.status_code == 400 and "Azure-AsyncOperation" not in refused.headers


def test_routes_and_versions_refused(instant: EmulatorHandle) -> None:
    reg = registry(instant)
    assert call("DELETE", f"{reg}/environments").status_code == 405
    assert call("GET", f"{reg}/models").status_code == 404
    assert (
        requests.get(
            f"{reg}/environments", params={"api-version": "1999-01-01"}, headers=AUTH, timeout=5
        ).status_code
        == 400
    )
    assert requests.get(f"{reg}/environments", params=API, timeout=5).status_code == 401
    unknown = (
        instant.url
        + "/subscriptions/s1/providers/Microsoft.MachineLearningServices/locations/eastus/mfeOperationsStatus/nope"
    )
    assert call("GET", unknown).status_code == 404


def test_the_data_plane_hands_out_an_upload_sas_until_the_version_exists(instant: EmulatorHandle) -> None:
    name = f"reg-{uuid.uuid4().hex[:10]}"
    reg = instant.url + REG.format(name)
    unseen = call("GET", f"{instant.url}/registrymanagement/v1.0/registries/{name}/discovery").json()
    assert unseen["resourceGroup"] == "emulator"  # every registry exists: where unknown, made up
    call("GET", f"{reg}/environments")  # the emulator learns where a registry is when it is used
    found = call("GET", f"{instant.url}/registrymanagement/v1.0/registries/{name.upper()}/discovery").json()
    assert (found["subscriptionId"], found["resourceGroup"], found["registryName"]) == ("s1", "rg", name)
    base = found["primaryRegionResourceProviderUri"] + "mferp/managementfrontend" + REG.format(name)
    asset = f"azureml://registries/{name}/environments/py/versions/1"
    body = {"assetId": asset, "temporaryDataReferenceType": "TemporaryBlobReference"}
    dataplane = {"api-version": "2021-10-01-dataplanepreview"}
    ref = requests.put(
        f"{base}/tempdatarefs/py/versions/1", params=dataplane, json=body, headers=AUTH, timeout=5
    )
    assert ref.status_code == 200 and "x-ms-ratelimit-remaining-subscription-writes" not in ref.headers
    consumption = ref.json()["blobReferenceForConsumption"]
    sas_uri = consumption["credential"]["sasUri"]
    assert consumption["credential"]["credentialType"] == "SAS" and sas_uri.startswith(
        consumption["blobUri"] + "?"
    )
    assert ".blob.core.windows.net/tmp" in sas_uri and "sig=" in sas_uri
    wrong = requests.put(f"{base}/tempdatarefs/py/versions/1", params=API, json=body, headers=AUTH, timeout=5)
    assert wrong.status_code == 400
    call("GET", call("PUT", f"{reg}/environments/py/versions/1", BODY).headers["Azure-AsyncOperation"])
    taken = requests.put(
        f"{base}/tempdatarefs/py/versions/1", params=dataplane, json=body, headers=AUTH, timeout=5
    )
    assert taken.status_code == 409


def test_arm_throttling_counts_registry_requests_and_polls_but_not_the_data_plane() -> None:
    with start_emulator(arm_throttle=True, read_bucket=3, read_refill=0.001) as handle:
        reg = registry(handle)
        put = call("PUT", f"{reg}/environments/py/versions/1", BODY)
        assert put.headers["x-ms-ratelimit-remaining-subscription-writes"] == "199"
        codes = [call("GET", put.headers["Azure-AsyncOperation"]).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        discovery = call(
            "GET", f"{handle.url}/registrymanagement/v1.0/registries/{reg.rsplit('/', 1)[1]}/discovery"
        )
        assert discovery.status_code == 200


def test_counters_name_registry_requests(instant: EmulatorHandle) -> None:
    reg = registry(instant)
    instant.reset_stats()
    call("GET", call("PUT", f"{reg}/environments/py/versions/1", BODY).headers["Azure-AsyncOperation"])
    call("GET", f"{reg}/environments")
    assert instant.stats().by_kind == {
        "registry.versions.put": 1,
        "operations.get": 1,
        "registry.containers.list": 1,
    }


# -- operations on a fake clock -------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_operations_end_when_their_time_is_up_and_someone_looks() -> None:
    clock, done = Clock(), []
    ops = Operations(seconds=2.0, clock=clock)
    first = ops.start("k", "s", ("py", "1"), lambda: done.append(1))
    clock.now = 1.0
    second = ops.start("k", "s", ("py", "2"), lambda: done.append(2))
    other = ops.start("other", "s", ("py", "1"), lambda: done.append(3))
    assert ops.retry_after(first) == 1 and ops.retry_after(second) == 2
    ops.settle("k")
    assert done == [] and ops.in_progress() == 3
    clock.now = 2.5
    ops.settle("k")
    assert done == [1] and (first.status, second.status, other.status) == (
        SUCCEEDED,
        IN_PROGRESS,
        IN_PROGRESS,
    )
    clock.now = 10.0
    ops.settle("k")
    assert done == [1, 2] and other.status == IN_PROGRESS and ops.pending("other", ("py", "1")) == [other]
    assert ops.retry_after(second) == 0


def test_a_write_refused_when_its_operation_ends_fails_the_operation() -> None:
    clock = Clock()
    ops = Operations(seconds=0.0, clock=clock)

    def refused() -> None:
        raise ConflictError(
            "Environment py with version 1 is already registered and cannot be changed.",
            status=409,
            code="UserError",
        )

    op = ops.start("k", "s", ("py", "1"), refused)
    ops.settle("k")
    assert op.status == FAILED and op.error == {
        "code": "UserError",
        "message": "Environment py with version 1 is already registered and cannot be changed.",
    }
    assert op.resource()["error"]["code"] == "UserError"


@pytest.mark.parametrize(("seconds", "rate"), [(-1.0, 0.0), (0.0, 1.0), (0.0, -0.1)])
def test_operation_settings_are_checked(seconds: float, rate: float) -> None:
    with pytest.raises(ValueError, match="operation seconds"):
        Operations(seconds, rate)


def test_registry_requests_are_checked_against_the_rest_spec(instant: EmulatorHandle) -> None:
    reg = registry(instant)
    read_only = {"properties": {**BODY["properties"], "environmentType": "UserCreated"}}
    refused = call("PUT", f"{reg}/environments/py/versions/1", read_only)
    assert refused.status_code == 400 and "does not match the API spec" in refused.json()["error"]["message"]
    assert call("GET", f"{reg}/environments", colour="blue").status_code == 400
    assert call("PUT", f"{reg}/environments/py/versions/1", BODY).status_code == 201
