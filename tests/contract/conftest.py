"""The backends the Workspace contract suite runs against.

`BACKENDS` maps a backend's name to the fixture that builds it: a fresh workspace holding
nothing but the curated environments, closed at teardown. To add a backend, write such a fixture
here and list it; every test in `test_workspace_contract.py` then runs against it too.
`BLOB_BACKENDS` adds, for the build-context tests, the Azure ML client with its blobs in Azurite
(a storage implementation envsync did not write) over a SAS, an account key, and an HTTPS bearer
token from an identity-based datastore whose listSecrets is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from envsync.emulator.polls import other_origin
from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.http.origins import TRUSTED_ORIGINS_VARIABLE
from envsync.workspace import Container, ListView, RemoteVersion, Workspace
from envsync.workspace.local.workspace import LocalWorkspace
from tests.azurite import Azurite
from tests.workspace import emulator_fixtures

emulator = emulator_fixtures.emulator  # the session emulator fixture, shared with tests/workspace
chaos_emulator = emulator_fixtures.chaos_emulator  # fault rate 0.2, throttle rate 0.2, fixed seed
throttled_emulator = emulator_fixtures.throttled_emulator  # ARM's buckets, small


@pytest.fixture
def local_workspace(tmp_path: Path) -> Iterator[Workspace]:
    """The embedded SQLite workspace, on a file of its own."""
    workspace = LocalWorkspace(tmp_path / "local" / "workspace.db")
    yield workspace
    workspace.close()


@pytest.fixture
def azureml_workspace(emulator: EmulatorHandle) -> Iterator[Workspace]:
    """The Azure ML REST client over HTTP to the session's emulator, on a workspace of its own."""
    workspace = emulator_fixtures.azureml_client(emulator)
    yield workspace
    workspace.close()


@pytest.fixture
def azureml_chaos_workspace(chaos_emulator: EmulatorHandle) -> Iterator[Workspace]:
    """The same client against an emulator that fails or throttles 40% of requests: the
    contract must hold through retries."""
    workspace = emulator_fixtures.azureml_client(chaos_emulator, http=emulator_fixtures.CHAOS_HTTP)
    yield workspace
    workspace.close()


@pytest.fixture
def registry_workspace(emulator: EmulatorHandle) -> Iterator[Workspace]:
    """The Azure ML registry client (writes are long-running operations, uploads go through
    the registry data plane) over HTTP to the session's emulator, on a registry of its own."""
    workspace = emulator_fixtures.registry_client(emulator)
    yield workspace
    workspace.close()


@pytest.fixture
def registry_chaos_workspace(chaos_emulator: EmulatorHandle) -> Iterator[Workspace]:
    """The registry client through 20% faults and 20% throttling, operation polls included."""
    workspace = emulator_fixtures.registry_client(chaos_emulator, http=emulator_fixtures.CHAOS_HTTP)
    yield workspace
    workspace.close()


@pytest.fixture
def registry_throttled_workspace(throttled_emulator: EmulatorHandle) -> Iterator[Workspace]:
    """The registry client against ARM's token buckets (small ones): paced, never refused."""
    workspace = emulator_fixtures.registry_client(throttled_emulator)
    yield workspace
    workspace.close()


@pytest.fixture(scope="session")
def realism_emulator() -> Iterator[EmulatorHandle]:
    """`--realism`: nulls the client never sent, contextUris in datastore form, another
    api-version in nextLink, lists 2 s behind writes; every answer checked against the spec."""
    with start_emulator(isolate=True, page_size=3, realism=True, check_responses=True) as handle:
        yield handle


class Settled:
    """A workspace whose lists are read once the emulator's list lag has passed (its clock is
    moved, nothing sleeps): the contract states what lists show once they caught up, and
    tests/cli/test_eventual.py what envsync makes of them before."""

    def __init__(self, workspace: Workspace, emulator: EmulatorHandle):
        self._workspace, self._emulator = workspace, emulator

    def __getattr__(self, name: str) -> Any:
        return getattr(self._workspace, name)

    def list_environments(self, view: ListView = ListView.ACTIVE) -> Iterator[Container]:
        self._emulator.settle()
        return self._workspace.list_environments(view)

    def list_versions(self, name: str, view: ListView = ListView.ACTIVE) -> list[RemoteVersion]:
        self._emulator.settle()
        return self._workspace.list_versions(name, view)


@pytest.fixture
def azureml_realism_workspace(realism_emulator: EmulatorHandle) -> Iterator[Workspace]:
    workspace = emulator_fixtures.azureml_client(realism_emulator)
    yield Settled(workspace, realism_emulator)  # type: ignore[misc]
    workspace.close()


@pytest.fixture
def registry_realism_workspace(
    realism_emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    """A registry whose writes answer as the data plane does (202, a null body, a Location on
    the emulator's other origin, bodiless polls): that origin trusted as the runner may say."""
    monkeypatch.setenv(TRUSTED_ORIGINS_VARIABLE, other_origin(realism_emulator.url))
    workspace = emulator_fixtures.registry_client(realism_emulator)
    yield Settled(workspace, realism_emulator)  # type: ignore[misc]
    workspace.close()


@pytest.fixture(scope="session")
def azurite_emulators(azurite: Azurite) -> Iterator[Callable[[str], EmulatorHandle]]:
    """Emulators whose datastore hands out Azurite, one per kind of credential, made on demand."""
    handles: dict[str, EmulatorHandle] = {}
    options = {"blob_endpoint": azurite.account_url, "blob_ca_bundle": str(azurite.ca_bundle)}

    def emulator(secrets_type: str) -> EmulatorHandle:
        if secrets_type not in handles:
            handles[secrets_type] = start_emulator(
                isolate=True, page_size=3, secrets_type=secrets_type, **options
            )
        return handles[secrets_type]

    yield emulator
    for handle in handles.values():
        handle.stop()


def _azurite_client(
    request: pytest.FixtureRequest, secrets_type: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    azurite: Azurite = request.getfixturevalue("azurite")
    emulators: Callable[[str], EmulatorHandle] = request.getfixturevalue("azurite_emulators")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(azurite.ca_bundle))  # Azurite's HTTPS certificate
    workspace = emulator_fixtures.azureml_client(emulators(secrets_type))
    yield workspace
    workspace.close()


@pytest.fixture
def azurite_sas_workspace(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    yield from _azurite_client(request, "Sas", monkeypatch)


@pytest.fixture
def azurite_key_workspace(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    yield from _azurite_client(request, "AccountKey", monkeypatch)


@pytest.fixture
def azurite_token_workspace(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    """Identity-based: listSecrets refused, blobs reached with an HTTPS bearer token."""
    yield from _azurite_client(request, "None", monkeypatch)


BACKENDS = {
    "local": "local_workspace",
    "azureml": "azureml_workspace",
    "azureml-chaos": "azureml_chaos_workspace",
    "azureml-realism": "azureml_realism_workspace",
    "registry": "registry_workspace",
    "registry-chaos": "registry_chaos_workspace",
    "registry-realism": "registry_realism_workspace",
    "registry-throttled": "registry_throttled_workspace",
}
BLOB_BACKENDS = {
    **BACKENDS,
    "azurite-sas": "azurite_sas_workspace",
    "azurite-key": "azurite_key_workspace",
    "azurite-token": "azurite_token_workspace",
}


@pytest.fixture(params=sorted(BACKENDS))
def workspace(request: pytest.FixtureRequest) -> Workspace:
    found: Workspace = request.getfixturevalue(BACKENDS[request.param])
    return found


@pytest.fixture
def holds_curated(request: pytest.FixtureRequest) -> bool:
    """Whether this backend shows Microsoft's curated catalog: a workspace does, a registry
    holds only what was pushed to it."""
    return not str(request.node.callspec.params["workspace"]).startswith("registry")


@pytest.fixture
def timestamps(request: pytest.FixtureRequest) -> bool:
    """Whether this backend answers as the service may: a container's nextVersion a timestamp
    of the read, not max + 1 (docs/real-service.md)."""
    return str(request.node.callspec.params["workspace"]).endswith("-realism")


@pytest.fixture(params=sorted(BLOB_BACKENDS))
def blob_workspace(request: pytest.FixtureRequest) -> Workspace:
    """`workspace`, and the client with its blobs in Azurite (over each kind of credential)."""
    found: Workspace = request.getfixturevalue(BLOB_BACKENDS[request.param])
    return found


WORKSPACE_BACKENDS = sorted(name for name in BACKENDS if not name.startswith("registry"))


@pytest.fixture(params=WORKSPACE_BACKENDS)
def deploying_workspace(request: pytest.FixtureRequest) -> Workspace:
    """`workspace` without the registries: only a workspace holds endpoints and deployments."""
    found: Workspace = request.getfixturevalue(BACKENDS[request.param])
    return found
