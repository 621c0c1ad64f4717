"""Session-scoped emulators and Azure ML clients pointed at them, for the contract suite.

Each client gets a workspace of its own (a fresh ARM workspace name on an `isolate`d emulator),
so tests never see each other's environments while sharing one server per session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.http.lro import LroOptions
from envsync.http.session import HttpOptions, StaticTokenCredential
from envsync.workspace.azure.registry import AzureMLRegistry
from envsync.workspace.azure.workspace import AzureMLWorkspace

WORKSPACE = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/{}"
# Fast but patient: with 20% faults and 20% throttling a request fails ~36% of the time, so
# 12 retries leave ~5e-6 odds of giving up on any one request.
CHAOS_HTTP = HttpOptions(retries=12, backoff=0.001, backoff_max=0.01, jitter=0.002)
CALM_HTTP = HttpOptions(retries=2, backoff=0.001, jitter=0.0)
REGISTRY = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/registries/{}"
FAST_LRO = LroOptions(timeout=60.0, interval=0.01, backoff_max=0.05)


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(isolate=True, page_size=3) as handle:
        yield handle


@pytest.fixture(scope="session")
def chaos_emulator() -> Iterator[EmulatorHandle]:
    options = {"fault_rate": 0.2, "throttle_rate": 0.2, "retry_after": 0, "seed": 20261125}
    with start_emulator(isolate=True, page_size=3, **options) as handle:
        yield handle


def azureml_client(handle: EmulatorHandle, *, http: HttpOptions = CALM_HTTP) -> AzureMLWorkspace:
    """A client on a workspace nobody else uses, over HTTP to `handle` with a static token."""
    url = handle.url + WORKSPACE.format(f"ws-{uuid.uuid4().hex[:12]}")
    return AzureMLWorkspace(url, StaticTokenCredential("contract-test-token"), http=http)


@pytest.fixture(scope="session")
def throttled_emulator() -> Iterator[EmulatorHandle]:
    """ARM's token buckets enforced, small enough that a test run meets them."""
    options = {
        "arm_throttle": True,
        "read_bucket": 20,
        "read_refill": 400.0,
        "write_bucket": 10,
        "write_refill": 200.0,
    }
    with start_emulator(isolate=True, page_size=3, **options) as handle:
        yield handle


def registry_client(handle: EmulatorHandle, *, http: HttpOptions = CALM_HTTP) -> AzureMLRegistry:
    """A client on a registry nobody else uses, over HTTP to `handle` with a static token."""
    url = handle.url + REGISTRY.format(f"reg-{uuid.uuid4().hex[:12]}")
    return AzureMLRegistry(url, StaticTokenCredential("contract-test-token"), http=http, lro_options=FAST_LRO)
