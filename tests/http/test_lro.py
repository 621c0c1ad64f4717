"""The long-running-operation poller, on scripted answers and a fake clock (no real waiting)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from envsync.errors import WorkspaceError
from envsync.http.lro import (
    LroOptions,
    Operation,
    OperationFailed,
    OperationTimeout,
    retry_after,
    started,
    wait,
)

URL = "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/registries/r/environments/e/versions/1"
STATUS = "https://management.azure.com/subscriptions/s/providers/Microsoft.MachineLearningServices/locations/eastus/mfeOperationsStatus/op1"
RESULT = "https://management.azure.com/subscriptions/s/providers/Microsoft.MachineLearningServices/locations/eastus/mfeOperationResults/op1"


def answer(status: int, body: Any = None, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = b"" if body is None else json.dumps(body).encode()
    response.headers = CaseInsensitiveDict({k.replace("_", "-"): v for k, v in headers.items()})
    return response


class Script:
    """A fake service: answers in order, a fake clock advanced only by `sleep`."""

    def __init__(self, *answers: requests.Response | Exception):
        self.answers: Iterator[requests.Response | Exception] = iter(answers)
        self.now = 1000.0
        self.asked: list[tuple[float, str]] = []
        self.slept: list[float] = []

    def get(self, url: str) -> requests.Response:
        self.asked.append((self.now - 1000.0, url))
        found = next(self.answers)
        if isinstance(found, Exception):
            raise found
        return found

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def run(self, first: requests.Response, method: str = "PUT", **options: float) -> requests.Response:
        operation = started(method, URL, first)
        assert operation is not None
        return wait(
            "PUT e:1", operation, first, self.get, LroOptions(**options), clock=self.clock, sleep=self.sleep
        )


def created(**headers: str) -> requests.Response:
    return answer(201, {"name": "1", "properties": {}}, **{"Azure-AsyncOperation": STATUS, **headers})


def test_async_operation_polled_until_succeeded_then_the_resource_is_read() -> None:
    final = answer(200, {"name": "1", "properties": {"image": "x"}})
    script = Script(
        answer(200, {"status": "InProgress"}, Retry_After="2"),
        answer(200, {"status": "Succeeded"}),
        final,
    )
    assert script.run(created(Retry_After="3")) is final
    assert script.asked == [(3.0, STATUS), (5.0, STATUS), (5.0, URL)]


def test_without_retry_after_the_default_interval_is_used() -> None:
    script = Script(answer(200, {"status": "Running"}), answer(200, {"status": "succeeded"}), answer(200, {}))
    script.run(created(), interval=7)
    assert [t for t, _ in script.asked] == [7.0, 14.0, 14.0]


def test_a_failed_operation_reports_its_arm_error() -> None:
    failed = {
        "status": "Failed",
        "error": {"code": "UserError", "message": "Asset was deleted, it cannot be recreated."},
    }
    script = Script(answer(200, failed))
    with pytest.raises(
        OperationFailed, match=r"PUT e:1: operation Failed: UserError: Asset was deleted"
    ) as caught:
        script.run(created(Retry_After="1"))
    assert caught.value.code == "UserError"


def test_a_canceled_operation_without_error_body_still_says_so() -> None:
    script = Script(answer(200, {"status": "Canceled"}))
    with pytest.raises(OperationFailed, match="operation Canceled: Canceled"):
        script.run(created(Retry_After="0"))


def test_throttled_and_failed_polls_are_ridden_out() -> None:
    script = Script(
        answer(429, {"error": {"code": "TooManyRequests", "message": "slow down"}}, Retry_After="4"),
        answer(503, {"error": {"code": "ServiceUnavailable", "message": "x"}}),
        WorkspaceError("GET status: request failed: ConnectionResetError"),
        answer(500, None),
        answer(200, {"status": "Succeeded"}),
        answer(200, {"name": "1"}),
    )
    script.run(created(Retry_After="1"), interval=1)
    # 429 honoured its Retry-After (4 s); 503, a lost answer and a 500 backed off 1, 2, 4 s.
    assert script.slept == [1.0, 4.0, 1.0, 2.0, 4.0]
    assert [u for _, u in script.asked][-1] == URL


def test_a_refused_poll_is_an_error_at_once() -> None:
    script = Script(answer(404, {"error": {"code": "NotFound", "message": "no such operation"}}))
    with pytest.raises(
        WorkspaceError, match="polling the operation: 404 NotFound: no such operation"
    ) as caught:
        script.run(created(Retry_After="1"))
    assert caught.value.status == 404 and not isinstance(caught.value, OperationFailed)


def test_the_total_wait_is_bounded() -> None:
    script = Script(*[answer(200, {"status": "InProgress"}, Retry_After="10") for _ in range(20)])
    with pytest.raises(OperationTimeout, match="still running after 60 s; it may finish on its own"):
        script.run(created(Retry_After="10"), timeout=60)
    # Six polls at 10 s steps; none after the budget.
    assert [t for t, _ in script.asked] == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]


def test_a_retry_after_past_the_deadline_gets_one_last_look_at_the_deadline() -> None:
    script = Script(answer(200, {"status": "Succeeded"}), answer(200, {"name": "1"}))
    script.run(created(Retry_After="600"), timeout=45)
    assert [t for t, _ in script.asked] == [45.0, 45.0]


def test_the_service_timeout_header_shortens_the_budget() -> None:
    script = Script(*[answer(200, {"status": "InProgress"}) for _ in range(10)])
    with pytest.raises(OperationTimeout):
        script.run(created(x_ms_async_operation_timeout="PT20S"), interval=5, timeout=3600)
    assert script.now - 1000.0 == 20.0


def test_delete_with_location_polls_until_not_202() -> None:
    done = answer(204)
    script = Script(answer(202, None, Retry_After="10"), done)
    assert script.run(answer(202, None, Location=RESULT, Retry_After="10"), method="DELETE") is done
    assert script.asked == [(10.0, RESULT), (20.0, RESULT)]


def test_delete_with_both_headers_follows_the_async_operation_then_location() -> None:
    first = answer(202, None, **{"Azure-AsyncOperation": STATUS, "Location": RESULT, "Retry-After": "1"})
    script = Script(answer(200, {"status": "Succeeded"}), answer(200, {}))
    script.run(first, method="DELETE")
    assert [u for _, u in script.asked] == [STATUS, RESULT]


def test_a_201_without_headers_watches_the_provisioning_state() -> None:
    first = answer(201, {"properties": {"provisioningState": "Creating"}})
    script = Script(
        answer(200, {"properties": {"provisioningState": "Creating"}}),
        answer(200, {"properties": {"provisioningState": "Succeeded"}}),
    )
    script.run(first, interval=2)
    assert script.asked == [(2.0, URL), (4.0, URL)]
    failing = Script(answer(200, {"properties": {"provisioningState": "Failed"}}))
    with pytest.raises(OperationFailed):
        failing.run(first)


@pytest.mark.parametrize(
    ("method", "response"),
    [
        ("PUT", answer(200, {"properties": {"provisioningState": "Succeeded"}})),
        ("PUT", answer(200, {"properties": {}})),
        ("PUT", answer(201, {"properties": {"provisioningState": "Succeeded"}})),
        ("DELETE", answer(200)),
        ("DELETE", answer(204)),
    ],
)
def test_answers_that_finished_already_start_no_operation(method: str, response: requests.Response) -> None:
    assert started(method, URL, response) is None


def test_started_names_what_to_watch() -> None:
    assert started("PUT", URL, created()) == Operation("async", STATUS, URL)
    assert started("DELETE", URL, answer(202, None, Location=RESULT)) == Operation("location", RESULT, None)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "0"}, 0.0),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({"x-ms-retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past: now
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_forms(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after(CaseInsensitiveDict(headers)) == seconds
