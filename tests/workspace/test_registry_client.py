"""The registry client against the emulator: writes wait for their operations, an operation's
failure is reported with its ARM error, a client that gives up finds the write done later,
uploads go through the data plane, and where the data plane is found."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from envsync.content.context import context_digest
from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import ConflictError, WorkspaceError
from envsync.http.lro import LroOptions, OperationFailed, OperationTimeout
from envsync.http.origins import UntrustedOrigin
from envsync.http.session import StaticTokenCredential
from envsync.workspace import BuildContext, VersionBody
from envsync.workspace.azure.registry import AzureMLRegistry
from tests.workspace.emulator_fixtures import CALM_HTTP, CHAOS_HTTP, FAST_LRO, REGISTRY

IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"


def client(handle: EmulatorHandle, lro: LroOptions = FAST_LRO, name: str | None = None) -> AzureMLRegistry:
    url = handle.url + REGISTRY.format(name or f"reg-{uuid.uuid4().hex[:10]}")
    return AzureMLRegistry(url, StaticTokenCredential("t"), http=CALM_HTTP, lro_options=lro)


@pytest.fixture(scope="module")
def one_second() -> Iterator[EmulatorHandle]:
    with start_emulator(operation_seconds=1.0) as handle:
        yield handle


def test_a_create_waits_for_its_operation(one_second: EmulatorHandle) -> None:
    registry = client(one_second)
    one_second.reset_stats()
    created = registry.create_version("py", "1", VersionBody(image=IMAGE, tags={"t": "1"}))
    assert (created.name, created.version, created.body.image) == ("py", "1", IMAGE)
    kinds = one_second.stats().by_kind
    assert kinds["registry.versions.put"] == 1 and kinds["operations.get"] >= 1
    # Then a retag is a plain write: done at once.
    one_second.reset_stats()
    assert dict(registry.update_version("py", "1", description="d", tags={"t": "2"}).body.tags) == {"t": "2"}
    assert "operations.get" not in one_second.stats().by_kind


def test_a_failed_operation_is_reported_with_its_arm_error() -> None:
    with start_emulator(operation_failure_rate=0.999, seed=3) as handle:
        registry = client(handle)
        with pytest.raises(
            OperationFailed, match=r"operation Failed: InternalServerError: Injected"
        ) as caught:
            registry.create_version("py", "1", VersionBody(image=IMAGE))
        assert caught.value.code == "InternalServerError"
        assert registry.get_version("py", "1") is None


def test_faults_and_throttling_hit_the_polls_too_and_every_create_still_lands() -> None:
    options = {"fault_rate": 0.3, "throttle_rate": 0.2, "retry_after": 0, "seed": 18}
    with start_emulator(**options) as handle:
        url = handle.url + REGISTRY.format("chaos")
        registry = AzureMLRegistry(url, StaticTokenCredential("t"), http=CHAOS_HTTP, lro_options=FAST_LRO)
        for i in range(12):
            registry.create_version("py", str(i), VersionBody(image=f"{IMAGE}-{i}"))
        assert [v.version for v in registry.list_versions("py")] == [str(i) for i in reversed(range(12))]
        stats = handle.stats()
        # Each create is one PUT, one poll and one read when nothing goes wrong; the rest are
        # polls and writes retried through 500s, 503s, resets and 429s.
        assert stats.by_kind["operations.get"] > 12 and stats.faults > 0 and stats.throttled > 0


def test_an_operation_that_outlives_the_client_is_found_done_afterwards() -> None:
    with start_emulator(operation_seconds=0.5) as handle:
        registry = client(handle, LroOptions(timeout=0.05, interval=0.01))
        with pytest.raises(OperationTimeout, match="may finish on its own: plan or apply again"):
            registry.create_version("py", "1", VersionBody(image=IMAGE))
        assert registry.get_version("py", "1") is None  # still in progress
        time.sleep(0.6)
        found = registry.get_version("py", "1")
        assert found is not None and found.body.image == IMAGE
        assert handle.operations_in_progress() == 0


def test_a_context_goes_through_the_data_plane_until_the_version_exists(
    one_second: EmulatorHandle, tmp_path: Path
) -> None:
    context = tmp_path / "docker"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM python:3.11\n")
    digest = context_digest(context)
    registry = client(one_second)
    one_second.reset_stats()
    uri = registry.upload_context(context, digest, name="built", version="1")
    assert uri.startswith("https://emu") and ".blob.core.windows.net/tmp" in uri
    assert uri.endswith(f"/LocalUpload/{digest}/docker/")
    kinds = one_second.stats().by_kind
    assert kinds["dataplane.discovery"] == 1 and kinds["dataplane.tempdatarefs"] == 1
    assert kinds["blob.put"] == 1 and kinds["blob.metadata"] == 1
    registry.create_version("built", "1", VersionBody(build=BuildContext(uri)))
    with pytest.raises(ConflictError, match="already exists"):
        registry.upload_context(context, digest, name="built", version="1")
    assert one_second.stats().by_kind["dataplane.discovery"] == 1  # found once per client
    dest = tmp_path / "back"
    dest.mkdir()
    registry.download_context(uri, dest, name="built", version="1")
    assert (dest / "Dockerfile").read_text() == "FROM python:3.11\n"
    with pytest.raises(WorkspaceError, match="only for a named environment version"):
        registry.upload_context(context, digest)


def test_where_the_data_plane_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    def at(endpoint: str, **kwargs: str) -> AzureMLRegistry:
        return AzureMLRegistry(endpoint + REGISTRY.format("org"), StaticTokenCredential("t"), **kwargs)

    monkeypatch.delenv("ENVSYNC_REGISTRY_DISCOVERY", raising=False)
    assert at("https://management.azure.com")._discovery_url() == "https://eastus.api.azureml.ms"
    assert at("https://management.chinacloudapi.cn")._discovery_url() == "https://chinaeast2.api.ml.azure.cn"
    assert at("http://127.0.0.1:9")._discovery_url() == "http://127.0.0.1:9"
    assert at("https://arm.example", discovery="https://d.example/")._discovery_url() == "https://d.example"
    with pytest.raises(WorkspaceError, match="set ENVSYNC_REGISTRY_DISCOVERY"):
        at("https://arm.example")._discovery_url()
    monkeypatch.setenv("ENVSYNC_REGISTRY_DISCOVERY", "https://westeurope.api.azureml.ms")
    assert at("https://arm.example")._discovery_url() == "https://westeurope.api.azureml.ms"
    with pytest.raises(WorkspaceError, match="refusing plain http"):
        at("https://arm.example", discovery="http://d.example")._discovery_url()


def test_operation_urls_must_stay_on_the_arm_origin() -> None:
    registry = AzureMLRegistry(
        "https://management.azure.com" + REGISTRY.format("org"), StaticTokenCredential("t")
    )
    with pytest.raises(UntrustedOrigin, match="is on evil.example, not management.azure.com"):
        registry.session.fetch("https://evil.example/subscriptions/s/operations/1")  # type: ignore[attr-defined]
