"""The backends the Workspace contract suite runs against.

`BACKENDS` maps a backend's name to the fixture that builds it: a fresh workspace holding
nothing but the curated environments, closed at teardown. To add a backend, write such a fixture
here and list it; every test in `test_workspace_contract.py` then runs against it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from envsync.emulator.server import EmulatorHandle
from envsync.workspace import Workspace
from envsync.workspace.local.workspace import LocalWorkspace
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


BACKENDS = {
    "local": "local_workspace",
    "azureml": "azureml_workspace",
    "azureml-chaos": "azureml_chaos_workspace",
    "registry": "registry_workspace",
    "registry-chaos": "registry_chaos_workspace",
    "registry-throttled": "registry_throttled_workspace",
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
