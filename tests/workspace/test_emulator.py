"""The emulator over real HTTP: ARM shapes and codes, paging, auth, blob SAS, faults, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

pytest.importorskip("envsync.workspace.local.workspace")  # the emulator's store, landing separately

from envsync.emulator.server import EmulatorHandle, start_emulator  # noqa: E402
from envsync.errors import EnvsyncError  # noqa: E402
from envsync.http.session import HttpOptions, StaticTokenCredential  # noqa: E402
from envsync.workspace import ListView, VersionBody  # noqa: E402
from envsync.workspace.azure.workspace import AzureMLWorkspace  # noqa: E402

WS = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws-{}"
AUTH = {"Authorization": "Bearer anything"}
API = {"api-version": "2025-12-01"}
FAST = HttpOptions(retries=2, backoff=0.001, jitter=0.0)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(page_size=2, isolate=True) as handle:
        yield handle


@pytest.fixture
def ws_url(emulator: EmulatorHandle, request: pytest.FixtureRequest) -> str:
    return emulator.url + WS.format(request.node.name.replace("[", "-").replace("]", "")[:30])


def client(url: str, http: HttpOptions = FAST) -> AzureMLWorkspace:
    return AzureMLWorkspace(url, StaticTokenCredential("test-token"), http=http)


def test_paging_seven_versions_with_page_size_two(emulator: EmulatorHandle, ws_url: str) -> None:
    ws = client(ws_url)
    for i in range(1, 8):
        ws.create_version("py", str(i), VersionBody(image=f"img:{i}"))
    emulator.reset_stats()
    assert [v.version for v in ws.list_versions("py")] == ["7", "6", "5", "4", "3", "2", "1"]
    assert emulator.stats().by_kind == {"versions.list": 4}
    first = requests.get(f"{ws_url}/environments/py/versions", params=API, headers=AUTH, timeout=5).json()
    link = first["nextLink"]
    assert link.startswith(ws_url + "/environments/py/versions?api-version=2025-12-01&") and "$skip=" in link
    assert "$skip=2" not in link  # opaque, not an offset


def test_tampered_skip_token_is_refused(ws_url: str) -> None:
    params = {**API, "$skip": "Mi5iYWRtYWM"}
    got = requests.get(f"{ws_url}/environments/py/versions", params=params, headers=AUTH, timeout=5)
    assert got.status_code == 400 and got.json()["error"]["code"] == "UserError"


def test_top_and_order(ws_url: str) -> None:
    ws = client(ws_url)
    for v in ("foo", "bar", "baz"):
        ws.create_version("named", v, VersionBody(image=v))
    url = f"{ws_url}/environments/named/versions"
    newest = requests.get(
        url, params={**API, "$orderBy": "createdtime desc", "$top": "1"}, headers=AUTH, timeout=5
    ).json()
    assert [i["name"] for i in newest["value"]] == ["baz"] and "nextLink" not in newest
    oldest = requests.get(url, params={**API, "$orderBy": "createdtime asc"}, headers=AUTH, timeout=5).json()
    assert [i["name"] for i in oldest["value"]] == ["foo", "bar"]


def test_put_version_status_codes(ws_url: str) -> None:
    url = f"{ws_url}/environments/codes/versions/1"
    body = {"properties": {"image": "python:3.11", "description": "a"}}
    put = lambda b: requests.put(url, params=API, headers=AUTH, json=b, timeout=5)  # noqa: E731
    assert put(body).status_code == 201
    assert put(body).status_code == 200
    assert (
        put({"properties": {**body["properties"], "description": "b", "tags": {"x": "y"}}}).status_code == 200
    )
    conflict = put({"properties": {"image": "python:3.12"}})
    assert conflict.status_code == 409
    assert conflict.json()["error"] == {
        "code": "UserError",
        "message": "Environment codes with version 1 is already registered and cannot be changed.",
        "details": [],
        "additionalInfo": [],
    }
    got = requests.get(url, params=API, headers=AUTH, timeout=5)
    assert got.json()["properties"]["tags"] == {"x": "y"}
    assert got.headers["x-ms-ratelimit-remaining-subscription-reads"].isdigit()
    assert conflict.headers["x-ms-ratelimit-remaining-subscription-writes"].isdigit()


def test_archive_through_the_client(ws_url: str) -> None:
    ws = client(ws_url)
    ws.create_version("arch", "1", VersionBody(image="a"))
    ws.create_version("arch", "2", VersionBody(image="b"))
    ws.set_archived("arch", "1", True)
    assert [v.version for v in ws.list_versions("arch")] == ["2"]
    assert [v.version for v in ws.list_versions("arch", ListView.ARCHIVED)] == ["1"]
    ws.set_archived("arch", None, True)
    assert [c.name for c in ws.list_environments(ListView.ARCHIVED)] == ["arch"]
    assert ws.list_versions("arch") == []


def only_curated(page: dict) -> bool:  # type: ignore[type-arg]
    """A new workspace lists Microsoft's curated environments, as Azure does, and nothing else."""
    names = [c["name"] for c in page["value"]]
    return bool(names) and all(n.startswith("AzureML-") for n in names)


@pytest.mark.parametrize(
    "version", ["2023-04-01-preview", "2024-10-01", "2025-06-01", "2025-09-01", "2025-12-01"]
)
def test_supported_api_versions(ws_url: str, version: str) -> None:
    got = requests.get(f"{ws_url}/environments", params={"api-version": version}, headers=AUTH, timeout=5)
    assert got.status_code == 200
    assert only_curated(got.json())


def test_unknown_api_version_and_missing_auth(ws_url: str) -> None:
    bad = requests.get(
        f"{ws_url}/environments", params={"api-version": "2021-01-01"}, headers=AUTH, timeout=5
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "NoRegisteredProviderFound"
    anon = requests.get(f"{ws_url}/environments", params=API, timeout=5)
    assert anon.status_code == 401 and anon.json()["error"]["code"] == "AuthenticationFailed"
    basic = requests.get(
        f"{ws_url}/environments", params=API, headers={"Authorization": "Basic eA=="}, timeout=5
    )
    assert basic.status_code == 401


def test_datastore_and_blob_endpoints_require_the_sas(emulator: EmulatorHandle, ws_url: str) -> None:
    store = requests.get(
        f"{ws_url}/datastores/workspaceblobstore", params=API, headers=AUTH, timeout=5
    ).json()
    props = store["properties"]
    assert (props["datastoreType"], props["isDefault"]) == ("AzureBlob", True)
    # Azure's "core.windows.net" cannot place an emulated account: the endpoint is its URL.
    assert props["endpoint"] == f"{emulator.url}/_blob/{props['accountName']}"
    secrets = requests.post(
        f"{ws_url}/datastores/workspaceblobstore/listSecrets", params=API, headers=AUTH, timeout=5
    ).json()
    assert secrets["secretsType"] == "Sas" and "sig=" in secrets["sasToken"]
    blob = f"{props['endpoint']}/{props['containerName']}/LocalUpload/d/x.txt"
    headers = {"x-ms-blob-type": "BlockBlob", "x-ms-version": "2023-11-03"}
    assert requests.put(blob, data=b"x", headers=headers, timeout=5).status_code == 403
    assert requests.put(f"{blob}?sv=1&sig=forged", data=b"x", headers=headers, timeout=5).status_code == 403
    assert (
        requests.put(f"{blob}?{secrets['sasToken']}", data=b"x", headers=headers, timeout=5).status_code
        == 201
    )
    head = requests.head(f"{blob}?{secrets['sasToken']}", timeout=5)
    assert head.status_code == 200 and head.headers["Content-Length"] == "1"


@pytest.mark.parametrize("secrets_type", ["Sas", "AccountKey"])
def test_upload_context_then_dedupe(tmp_path: Path, secrets_type: str) -> None:
    context = tmp_path / "ctx"
    (context / "sub").mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM python:3.11\n")
    (context / "sub" / "a file.txt").write_text("x")
    digest = "a" * 64
    with start_emulator(secrets_type=secrets_type) as emulator:
        ws = client(emulator.url + WS.format("up"))
        uri = ws.upload_context(context, digest)
        assert uri.startswith("https://emu") and uri.endswith(
            f".blob.core.windows.net/azureml-blobstore-emulator/LocalUpload/{digest}/ctx/"
        )
        assert emulator.stats().by_kind["blob.put"] == 2
        emulator.reset_stats()
        assert client(emulator.url + WS.format("up")).upload_context(context, digest) == uri
        assert "blob.put" not in emulator.stats().by_kind  # the indicator blob says completed


def test_throttle_and_faults_are_visible_on_the_wire() -> None:
    with start_emulator(throttle_rate=0.99, retry_after=0, seed=3) as emulator:
        got = requests.get(
            emulator.url + WS.format("t") + "/environments", params=API, headers=AUTH, timeout=5
        )
        assert got.status_code == 429 and got.headers["Retry-After"] == "0"
        assert got.json()["error"]["code"] == "TooManyRequests"
    with start_emulator(fault_rate=0.99, seed=5) as emulator:
        outcomes = set()
        for _ in range(12):
            try:
                outcomes.add(
                    requests.get(
                        emulator.url + WS.format("f") + "/environments", params=API, headers=AUTH, timeout=5
                    ).status_code
                )
            except requests.ConnectionError:
                outcomes.add("reset")
        assert (
            outcomes <= {500, 503, 200, "reset"}
            and "reset" in outcomes
            and (500 in outcomes or 503 in outcomes)
        )
        assert emulator.stats().faults >= 10


def test_client_survives_faults_and_throttling() -> None:
    with start_emulator(fault_rate=0.3, throttle_rate=0.3, retry_after=0, seed=11, page_size=3) as emulator:
        ws = client(emulator.url + WS.format("chaos"), HttpOptions(retries=12, backoff=0.001, jitter=0.001))
        for i in range(10):
            ws.create_version("c", str(i), VersionBody(image="same"))
        assert len(ws.list_versions("c")) == 10
        stats = emulator.stats()
        assert stats.faults > 0 and stats.throttled > 0


def test_stats_endpoint(emulator: EmulatorHandle) -> None:
    doc = requests.get(emulator.url + "/_emulator/stats", timeout=5).json()
    assert set(doc) == {"total", "by_method", "by_kind", "faults", "throttled"}


def test_refuses_non_loopback_hosts() -> None:
    with pytest.raises(EnvsyncError, match="loopback"):
        start_emulator(host="0.0.0.0")  # noqa: S104 - the point: it must refuse


def test_cli_prints_its_url_and_serves(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "envsync", "emulator", "--db", str(tmp_path / "e.db"), "--page-size", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("Emulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        got = requests.get(url + WS.format("cli") + "/environments", params=API, headers=AUTH, timeout=5)
        assert got.status_code == 200
        assert only_curated(json.loads(got.text))
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
