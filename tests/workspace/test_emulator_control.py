"""The emulator's test controls: holding request N until released, and fault draws keyed by
the request's order of arrival, so a seed replays."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import suppress

import pytest
import requests

from envsync.emulator.faults import Fault, FaultInjector
from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import WorkspaceError
from envsync.http.session import HttpOptions, StaticTokenCredential
from envsync.workspace import BuildContext, VersionBody
from envsync.workspace.azure.workspace import AzureMLWorkspace

WS = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1"
AUTH = {"Authorization": "Bearer anything"}
API = {"api-version": "2025-12-01"}


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator() as handle:
        yield handle


def get(handle: EmulatorHandle, path: str) -> requests.Response:
    return requests.get(handle.url + WS + path, params=API, headers=AUTH, timeout=10)


def test_the_nth_request_is_held_until_released_then_handled(emulator: EmulatorHandle) -> None:
    assert get(emulator, "/environments").status_code == 200  # before the hold: not counted
    hold = emulator.hold(2)
    assert get(emulator, "/environments").status_code == 200
    answers: list[int] = []
    held = threading.Thread(target=lambda: answers.append(get(emulator, "/environments/x").status_code))
    held.start()
    assert hold.wait(5)
    assert hold.request == "containers.get" and answers == []
    held.join(0.2)
    assert held.is_alive()  # still held
    assert hold.release(wait=5)  # handled to its end
    held.join(5)
    assert answers == [404]


def test_a_dropped_request_is_never_handled(emulator: EmulatorHandle) -> None:
    hold = emulator.hold(1, drop=True)
    hold.release()  # released before it even arrives: dropped at once
    with pytest.raises(requests.ConnectionError):
        get(emulator, "/environments")
    assert hold.arrived
    assert emulator.stats().total == 0  # never counted as handled


def test_stopping_releases_every_hold() -> None:
    handle = start_emulator()
    hold = handle.hold(1)
    done = threading.Event()

    def call() -> None:
        with suppress(requests.RequestException):  # answered or cut off by the shutdown
            get(handle, "/environments")
        done.set()

    threading.Thread(target=call, daemon=True).start()
    assert hold.wait(5)
    handle.stop()
    assert done.wait(10)


def test_hold_counts_from_one() -> None:
    with start_emulator() as handle, pytest.raises(ValueError, match="from 1"):
        handle.hold(0)


def test_a_draw_depends_only_on_the_seed_and_the_request_number() -> None:
    one = FaultInjector(fault_rate=0.3, throttle_rate=0.2, seed=7)
    two = FaultInjector(fault_rate=0.3, throttle_rate=0.2, seed=7)
    order = list(range(1, 400))
    forward = [one.draw(n) for n in order]
    backward = {n: two.draw(n) for n in reversed(order)}  # asked in another order, as threads would
    assert forward == [backward[n] for n in order]
    assert {Fault.THROTTLE, Fault.NONE} <= set(forward) and len(set(forward)) > 3
    other = FaultInjector(fault_rate=0.3, throttle_rate=0.2, seed=8)
    assert [other.draw(n) for n in order] != forward


def test_a_seed_replays_the_same_faults_over_http() -> None:
    def run(seed: int) -> list[int]:
        with start_emulator(fault_rate=0.3, throttle_rate=0.2, retry_after=0, seed=seed) as handle:
            statuses = []
            for _ in range(40):
                try:
                    statuses.append(get(handle, "/environments").status_code)
                except requests.ConnectionError:
                    statuses.append(0)
            return statuses

    first = run(21)
    assert first == run(21)
    assert set(first) > {200}


def test_an_echoing_emulator_quotes_credentials_back_and_the_client_prints_none() -> None:
    token = "Bearer-token-that-must-never-print-1234"
    with start_emulator(echo_secrets=True) as handle:
        got = requests.get(
            handle.url + WS + "/environments/none",
            params={**API, "sig": "SAS-SIGNATURE-5678"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert got.status_code >= 400  # an unknown container, or a query the spec does not allow
        assert token in got.text and "SAS-SIGNATURE-5678" in got.text
        client = AzureMLWorkspace(handle.url + WS, StaticTokenCredential(token), http=HttpOptions(retries=0))
        client.create_version("x", "1", VersionBody(image="i"))
        with pytest.raises(WorkspaceError) as info:  # a 409: other content, its body echoed back
            client.create_version("x", "1", VersionBody(build=BuildContext("https://a/c/?sv=1&sig=SAS-9")))
        assert token not in str(info.value) and "SAS-9" not in str(info.value)
        assert "echo:" in str(info.value)


def test_fault_rates_change_while_running() -> None:
    with start_emulator(fault_rate=0.9, throttle_rate=0.0, retry_after=0, seed=1) as handle:
        handle.set_faults()
        assert all(get(handle, "/environments").status_code == 200 for _ in range(20))
        handle.set_faults(throttle_rate=0.99)
        assert get(handle, "/environments").status_code == 429
