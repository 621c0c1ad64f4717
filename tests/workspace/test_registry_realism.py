"""Registry writes under `--realism`, answered as the registry data plane answers them (REC
…test_registry_environment_create_conda_and_get.json): 202, a `null` body, a `Location` on
another origin than the PUT, polls answering 202 with no body until a 200. The client follows
that Location only where its token may go (`envsync.http.origins`), and otherwise fails at once
naming the host, before any poll, instead of waiting out the operation timeout."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from envsync.emulator.polls import other_origin
from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.http.lro import LroOptions
from envsync.http.origins import TRUSTED_ORIGINS_VARIABLE, UntrustedOrigin
from envsync.http.session import StaticTokenCredential
from envsync.workspace import VersionBody
from envsync.workspace.azure.registry import AzureMLRegistry
from tests.workspace.emulator_fixtures import CALM_HTTP, FAST_LRO, REGISTRY

API = {"api-version": "2025-12-01"}
AUTH = {"Authorization": "Bearer t"}
IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"


@pytest.fixture(scope="module")
def realism() -> Iterator[EmulatorHandle]:
    with start_emulator(realism=True, list_lag_ms=0, operation_seconds=0.3) as handle:
        yield handle


def registry_url(handle: EmulatorHandle) -> str:
    return handle.url + REGISTRY.format(f"reg-{uuid.uuid4().hex[:10]}")


def test_a_create_answers_202_a_null_body_and_a_location_elsewhere(realism: EmulatorHandle) -> None:
    url = f"{registry_url(realism)}/environments/py/versions/1"
    put = requests.put(url, params=API, json={"properties": {"image": IMAGE}}, headers=AUTH, timeout=5)
    assert (put.status_code, put.content) == (202, b"null")
    location = put.headers["Location"]
    assert location.startswith(other_origin(realism.url) + "/environment/v1.0/operations/")
    assert not location.startswith(realism.url) and "Retry-After" not in put.headers
    polled = requests.get(location, headers=AUTH, timeout=5)
    assert (polled.status_code, polled.content) == (202, b"")
    time.sleep(0.35)  # the operation's time, so that it ends
    done = requests.get(location, headers=AUTH, timeout=5)
    assert (done.status_code, done.content) == (200, b"")
    assert requests.get(url, params=API, headers=AUTH, timeout=5).json()["properties"]["image"] == IMAGE


def test_a_location_on_an_untrusted_origin_fails_at_once_naming_its_host(
    realism: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TRUSTED_ORIGINS_VARIABLE, raising=False)
    patient = LroOptions(timeout=1800.0, interval=5.0)  # the defaults: a retried refusal would hang
    registry = AzureMLRegistry(
        registry_url(realism), StaticTokenCredential("t"), http=CALM_HTTP, lro_options=patient
    )
    realism.reset_stats()
    started = time.monotonic()
    with pytest.raises(UntrustedOrigin, match=r"the operation URL is on localhost, not 127\.0\.0\.1"):
        registry.create_version("py", "1", VersionBody(image=IMAGE))
    assert time.monotonic() - started < 3
    assert "operations.get" not in realism.stats().by_kind  # the token never went there


def test_a_trusted_other_origin_is_followed_to_the_end(
    realism: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TRUSTED_ORIGINS_VARIABLE, other_origin(realism.url))
    registry = AzureMLRegistry(
        registry_url(realism), StaticTokenCredential("t"), http=CALM_HTTP, lro_options=FAST_LRO
    )
    realism.reset_stats()
    created = registry.create_version("py", "1", VersionBody(image=IMAGE, conda_file="name: x\n"))
    assert (created.version, created.body.image, created.body.content().conda) == ("1", IMAGE, {"name": "x"})
    assert realism.stats().by_kind["operations.get"] >= 2  # 202s, then the 200
