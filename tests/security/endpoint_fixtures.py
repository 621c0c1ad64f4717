"""What the endpoint tests share: one hostile server per session, a repository targeting it."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.hostile import Answer, HostileServer, json_answer

TOKEN = "hostile-test-token-not-a-secret"
DIGEST = "ab" * 32
CONTEXT = f"https://acct.blob.core.windows.net/azureml/LocalUpload/{DIGEST}/ctx/"


@pytest.fixture(scope="session")
def hostile_server() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.stop()


@pytest.fixture
def hostile(hostile_server: HostileServer, monkeypatch: pytest.MonkeyPatch) -> HostileServer:
    """The session's hostile server with no script yet, and the runner's token for it."""
    hostile_server.script({})
    monkeypatch.setenv("ENVSYNC_ARM_TOKEN", TOKEN)
    return hostile_server


def hostile_target(root: Path, url: str) -> None:
    """envsync.yaml in `root` whose default target is an Azure ML workspace at `url`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "envsync.yaml").write_text(
        "default_target: hostile\n"
        "targets:\n"
        "  hostile: {type: azureml, subscription_id: sub, resource_group: rg, workspace: ws1,"
        f" endpoint: '{url}'}}\n"
    )


def files_under(root: Path) -> dict[str, bytes]:
    """Every file below `root` with its bytes (symlinks as their target): a before/after
    snapshot. envsync's own state folder (.envsync/, its caches) is left out."""
    found = {}
    for path in sorted(root.rglob("*")):
        if ".envsync" in path.relative_to(root).parts:
            continue
        if path.is_symlink():
            found[path.relative_to(root).as_posix()] = str(path.readlink()).encode()
        elif path.is_file():
            found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def context_routes(
    url: str, datastore: Mapping[str, Any], secrets: Mapping[str, Any], listing: Answer, blob: Answer
) -> dict[str, Answer]:
    """A workspace holding one environment `ctx` built from CONTEXT, its datastore's blobs served
    by the same server: the datastore's and listSecrets' fields overridden by `datastore` and
    `secrets` (a value of None drops the field)."""
    store = {
        "datastoreType": "AzureBlob",
        "accountName": "acct",
        "containerName": "azureml",
        "endpoint": f"{url}/acct",
        "credentials": {"credentialsType": "AccountKey"},
    }
    key = {"secretsType": "AccountKey", "key": base64.b64encode(b"k" * 64).decode()}
    container = {"name": "ctx", "properties": {"latestVersion": "1"}}
    version = {"name": "1", "properties": {"build": {"contextUri": CONTEXT}}}
    return {
        r"/environments$": json_answer({"value": [container]}),
        r"/versions$": json_answer({"value": [version]}),
        r"/datastores/workspaceblobstore$": json_answer({"properties": _merged(store, datastore)}),
        r"/listSecrets$": json_answer(_merged(key, secrets)),
        r"^/acct/azureml$": listing,
        r"^/acct/azureml/LocalUpload/": blob,
    }


def _merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**base, **changes}
    return {k: v for k, v in merged.items() if v is not None}
