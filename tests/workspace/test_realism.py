"""`envsync emulator --realism`: answers shaped as the service may shape them (nulls the client
never sent, a contextUri in datastore form, another api-version in nextLink) and lists that lag
writes; the client reads through all of it, and every answer still matches the REST spec."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from envsync.content.context import context_digest
from envsync.content.fingerprint import fingerprint
from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import NotFoundError
from envsync.http.session import HttpOptions, StaticTokenCredential
from envsync.workspace import BuildContext, ListView, VersionBody
from envsync.workspace.azure.workspace import AzureMLWorkspace

WS = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/{}"
API = {"api-version": "2025-12-01"}
AUTH = {"Authorization": "Bearer t"}
ROUTES = {
    "livenessRoute": {"path": "/health", "port": 5001},
    "readinessRoute": {"path": "/ready", "port": 5001},
    "scoringRoute": {"path": "/score", "port": 5001},
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(isolate=True, page_size=2, realism=True, check_responses=True) as handle:
        yield handle


@pytest.fixture
def ws_url(emulator: EmulatorHandle) -> str:
    return emulator.url + WS.format(f"ws-{uuid.uuid4().hex[:8]}")


def client(url: str) -> AzureMLWorkspace:
    return AzureMLWorkspace(url, StaticTokenCredential("t"), http=HttpOptions(retries=1, backoff=0.001))


def test_answers_carry_nulls_the_client_never_sent(emulator: EmulatorHandle, ws_url: str) -> None:
    sent = VersionBody(image="img", inference_config=ROUTES, tags={"a": "1"})
    got = client(ws_url).create_version("env", "1", sent)
    assert got.body == sent and fingerprint(got.body.content()) == fingerprint(sent.content())
    raw = requests.get(f"{ws_url}/environments/env/versions/1", params=API, headers=AUTH, timeout=5).json()
    props = raw["properties"]
    assert props["inferenceConfig"]["startupRoute"] is None
    assert props["stage"] is None and props["description"] is None


def test_an_uploaded_context_comes_back_in_datastore_form(ws_url: str, tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM python:3.12\n")
    ws = client(ws_url)
    uri = ws.upload_context(context, context_digest(context))
    got = ws.create_version("built", "1", VersionBody(build=BuildContext(uri)))
    assert got.body.build is not None and got.body.build.context_uri.startswith("azureml://subscriptions/s/")
    assert "/datastores/workspaceblobstore/paths/LocalUpload/" in got.body.build.context_uri
    assert got.body.content().context == context_digest(context)
    back = tmp_path / "back"
    back.mkdir()
    ws.download_context(got.body.build.context_uri, back)  # the datastore form downloads too
    assert (back / "Dockerfile").read_text() == "FROM python:3.12\n"
    updated = ws.update_version("built", "1", description="resent", tags={})  # resend that form
    assert updated.body.content() == got.body.content()


def test_next_link_carries_another_api_version_and_a_bound_token(
    emulator: EmulatorHandle, ws_url: str
) -> None:
    ws = client(ws_url)
    for v in ("1", "2", "3"):
        ws.create_version("paged", v, VersionBody(image=f"img:{v}"))
    emulator.settle()
    first = requests.get(f"{ws_url}/environments/paged/versions", params=API, headers=AUTH, timeout=5).json()
    link = first["nextLink"]
    assert "api-version=2025-07-01-preview" in link
    verbatim = requests.get(link, headers=AUTH, timeout=5)
    assert verbatim.status_code == 400 and "continuation token" in verbatim.json()["error"]["message"]
    assert [v.version for v in ws.list_versions("paged")] == ["3", "2", "1"]  # the client sets its own


def test_lists_lag_writes_and_reads_do_not(emulator: EmulatorHandle, ws_url: str) -> None:
    ws = client(ws_url)
    ws.create_version("fresh", "1", VersionBody(image="a"))
    assert "fresh" not in [c.name for c in ws.list_environments(ListView.ALL)]
    assert ws.list_versions("fresh", ListView.ALL) == []
    container = ws.get_environment("fresh")
    assert container is not None and container.latest_version == "1"
    assert ws.get_version("fresh", "1") is not None
    emulator.settle()
    assert [v.version for v in ws.list_versions("fresh")] == ["1"]
    ws.create_version("fresh", "2", VersionBody(image="b"))
    ws.tag_environment("fresh", "k", "v")
    listed = next(c for c in ws.list_environments() if c.name == "fresh")
    assert (listed.latest_version, dict(listed.tags)) == ("1", {})  # as it was before the writes
    assert [v.version for v in ws.list_versions("fresh")] == ["1"]
    ws.set_archived("fresh", None, True)
    assert "fresh" in [c.name for c in ws.list_environments()]  # still shown active
    emulator.settle()
    assert "fresh" not in [c.name for c in ws.list_environments()]
    archived = next(c for c in ws.list_environments(ListView.ARCHIVED) if c.name == "fresh")
    assert (archived.latest_version, dict(archived.tags)) == ("2", {"k": "v"})
    assert [v.version for v in ws.list_versions("fresh", ListView.ARCHIVED)] == ["2", "1"]


def test_the_cli_takes_realism_and_a_lag(tmp_path: Path) -> None:
    with start_emulator(realism=True, list_lag_ms=0) as handle:
        ws = client(handle.url + WS.format("nolag"))
        ws.create_version("now", "1", VersionBody(image="a"))
        assert [c.name for c in ws.list_environments() if not c.curated] == ["now"]


# -- the shapes recorded from the live service (docs/real-service.md) -----------------------------


def test_an_update_put_answers_201_with_a_location(ws_url: str) -> None:
    url = f"{ws_url}/environments/again/versions/1"
    body = {"properties": {"image": "img", "description": "first"}}
    created = requests.put(url, params=API, json=body, headers=AUTH, timeout=5)
    body["properties"]["description"] = "second"
    updated = requests.put(url, params=API, json=body, headers=AUTH, timeout=5)
    assert (created.status_code, updated.status_code) == (201, 201)
    assert updated.headers["Location"] == f"{url}?api-version=2025-12-01"
    assert updated.json()["properties"]["description"] == "second"
    assert client(ws_url).get_version("again", "1").body.description == "second"  # type: ignore[union-attr]


def test_containers_answer_an_empty_description_and_a_timestamp_next_version(ws_url: str) -> None:
    ws = client(ws_url)
    ws.create_version("stamped", "1", VersionBody(image="a"))
    raw = requests.get(f"{ws_url}/environments/stamped", params=API, headers=AUTH, timeout=5).json()
    assert raw["properties"]["description"] == ""
    assert re.fullmatch(r"\d{4}(-\d\d){5}-\d{7}", raw["properties"]["nextVersion"])
    container = ws.get_environment("stamped")
    assert container is not None and container.description == ""


def test_a_datastore_get_carries_no_secrets_and_the_fields_the_service_adds(ws_url: str) -> None:
    url = f"{ws_url}/datastores/workspaceblobstore"
    raw = requests.get(url, params=API, headers=AUTH, timeout=5).json()
    props = raw["properties"]
    assert props["credentials"] == {"credentialsType": "Sas"}
    assert props["serviceDataAccessAuthIdentity"] == "WorkspaceSystemAssignedIdentity"
    assert (props["description"], props["tags"], props["properties"]) == (None, None, None)
    assert raw["systemData"]["createdAt"]
    secrets = requests.post(f"{url}/listSecrets", params=API, headers=AUTH, timeout=5).json()
    assert secrets["secretsType"] == "Sas" and secrets["sasToken"]  # only listSecrets has them


def test_error_bodies_fill_additional_info_and_the_client_reads_one_line(ws_url: str) -> None:
    url = f"{ws_url}/environments/nope/versions/1"
    raw = requests.get(url, params=API, headers=AUTH, timeout=5).json()["error"]
    kinds = [item["type"] for item in raw["additionalInfo"]]
    assert kinds == ["ComponentName", "Correlation", "Environment", "Location", "Time", "InnerError"]
    with pytest.raises(NotFoundError) as caught:
        client(ws_url).update_version("nope", "1", description="x", tags={})
    assert "\n" not in str(caught.value) and "additionalInfo" not in str(caught.value)
