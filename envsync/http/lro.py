"""Azure Resource Manager's long-running operations, polled to their end.

ARM's asynchronous pattern (Azure/azure-resource-manager-rpc, async-api-reference.md; the same
algorithm as azure-mgmt-core's `ARMPolling`): a write answers 201 or 202 and names where to
watch it. `Azure-AsyncOperation` is an operation resource whose `status` ends `Succeeded`,
`Failed` or `Canceled` (a failure carries ARM's `error`); `Location` answers 202 until the
operation ends; with neither, the resource's own `provisioningState` tells. `Retry-After`
says when to look again. Azure ML registry writes are such operations (mfe.json 2025-12-01:
`RegistryEnvironmentVersions_CreateOrUpdate` 201 + Azure-AsyncOperation, final state via the
original URI; `_Delete` 202 + Location + Retry-After, final state via Location).

azure-core's `LROPoller` runs on its own pipeline (a second HTTP stack beside the paced ARM
session) and gives up on the first poll that fails after its retries; this poller sends every
poll through the caller's `get`, so polls are paced and retried like any ARM read, and it rides
out throttling, 5xx and lost connections until its total budget is spent. An operation still
running then is not an error of the service: it may finish without us, which apply's re-read
counts as done on the next run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from envsync.errors import WorkspaceError
from envsync.http.caps import load_json
from envsync.http.origins import UntrustedOrigin

TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})
_SUCCEEDED, _FAILED = "succeeded", frozenset({"failed", "canceled", "cancelled"})
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE)

Getter = Callable[[str], requests.Response]  # GET an absolute URL; raises only when nothing came back


class OperationFailed(WorkspaceError):
    """The service ran the operation and it ended Failed or Canceled (ARM's error attached)."""


class OperationTimeout(WorkspaceError):
    """The client stopped waiting; the operation may still finish on its own."""


@dataclass(frozen=True)
class LroOptions:
    """How long to wait for one operation and how often to look."""

    timeout: float = 1800.0  # total seconds from the first answer; the service's own timeout wins if shorter
    interval: float = 5.0  # between polls when the service sends no Retry-After
    retry_after_max: float = 600.0  # the largest Retry-After the spec allows (mfe.json: 10..600)
    backoff_max: float = 30.0  # after a throttled or failed poll with no Retry-After, doubling up to this


@dataclass(frozen=True)
class Operation:
    """What a 201/202 answer said to watch."""

    kind: str  # "async" (Azure-AsyncOperation), "location" or "state" (the resource's provisioningState)
    monitor: str  # the URL polled
    final: str | None  # the URL read once it succeeded (None: the last poll is the result)


def started(method: str, url: str, response: requests.Response) -> Operation | None:
    """The operation `response` (to `method url`) started, or None when it finished already."""
    headers = response.headers
    async_url, location = headers.get("Azure-AsyncOperation"), headers.get("Location")
    writes_resource = method.upper() in ("PUT", "PATCH")
    if async_url:
        return Operation("async", async_url, url if writes_resource else location)
    if location and response.status_code in (201, 202):
        return Operation("location", location, None)
    if writes_resource and response.status_code in (201, 202) and _state(response) != _SUCCEEDED:
        return Operation("state", url, None)  # azure-core's body polling: watch the resource itself
    return None


def wait(
    op: str,
    operation: Operation,
    first: requests.Response,
    get: Getter,
    options: LroOptions = LroOptions(),
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> requests.Response:
    """Poll `operation` until it ends and return the final answer (the resource read again, or
    the last poll). Raises `OperationFailed` with ARM's error, `OperationTimeout` past the
    budget, or a `WorkspaceError` for a poll the service refused outright (401, 404...)."""
    deadline = clock() + min(options.timeout, _service_timeout(first) or options.timeout)
    poller = _Poller(op, get, options, deadline, clock, sleep)
    delay = poller.delay(first, options.interval)
    while True:
        response = poller.poll(operation.monitor, delay)
        state = _progress(op, operation.kind, response)
        if state == _SUCCEEDED:
            if operation.final is None:
                return response
            # Done: reading the result gets a little time of its own even at the deadline.
            poller.deadline = max(poller.deadline, clock() + options.backoff_max)
            return poller.poll(operation.final, 0.0)
        if state in _FAILED:
            raise _failure(op, state, response)
        delay = poller.delay(response, options.interval)


class _Poller:
    def __init__(
        self,
        op: str,
        get: Getter,
        options: LroOptions,
        deadline: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ):
        self.op, self.get, self.options, self.deadline = op, get, options, deadline
        self.clock, self.sleep = clock, sleep
        self.started = clock()

    def delay(self, response: requests.Response, default: float) -> float:
        after = retry_after(response.headers)
        return default if after is None else min(after, self.options.retry_after_max)

    def poll(self, url: str, delay: float) -> requests.Response:
        """GET `url` after `delay`, again and again while the answer is transient (429, 5xx,
        no answer), until a real one comes or the budget is spent."""
        backoff = max(self.options.interval, 0.05)
        while True:
            self._wait(delay)
            try:
                response = self.get(url)
            except UntrustedOrigin:
                raise  # refused before sending: looking again cannot change that
            except WorkspaceError:  # no answer at all (reset, timeout): look again later
                response = None
            if response is not None and response.status_code not in TRANSIENT:
                if response.status_code >= 400:
                    raise _refused(self.op, response)
                return response
            after = None if response is None else retry_after(response.headers)
            if after is not None:
                delay = min(after, self.options.retry_after_max)
            else:
                delay, backoff = backoff, min(backoff * 2, self.options.backoff_max)

    def _wait(self, delay: float) -> None:
        left = self.deadline - self.clock()
        if left <= 0:
            waited = self.clock() - self.started
            shown = f"{waited:.0f}" if waited >= 10 else f"{waited:.1f}"
            raise OperationTimeout(
                f"{self.op}: the operation was still running after {shown} s; it may finish on "
                "its own: plan or apply again to see where it got",
                code="OperationTimeout",
            )
        if delay > 0:
            self.sleep(min(delay, left))  # a Retry-After past the deadline: one last look at it


def _progress(op: str, kind: str, response: requests.Response) -> str:
    """`succeeded`, `failed`, `canceled` or anything else (still running)."""
    if kind == "location":
        return "running" if response.status_code == 202 else _SUCCEEDED
    if kind == "state":
        if response.status_code == 202:
            return "running"
        return _state(response) or _SUCCEEDED
    doc = _json(response)
    status = doc.get("status") if isinstance(doc, Mapping) else None
    if not isinstance(status, str):
        shown = "missing" if status is None else f"not a string ({type(status).__name__})"
        raise WorkspaceError(f"{op}: polling the operation: the answer's 'status' is {shown}")
    return status.lower()


def _state(response: requests.Response) -> str | None:
    doc = _json(response)
    props = doc.get("properties") if isinstance(doc, Mapping) else None
    state = props.get("provisioningState") if isinstance(props, Mapping) else None
    return state.lower() if isinstance(state, str) else None


def _failure(op: str, state: str, response: requests.Response) -> OperationFailed:
    doc = _json(response)
    error = doc.get("error") if isinstance(doc, Mapping) else None
    error = error if isinstance(error, Mapping) else {}
    code = str(error.get("code") or state.capitalize())
    message = str(error.get("message") or f"the operation ended {state.capitalize()}")
    return OperationFailed(f"{op}: operation {state.capitalize()}: {code}: {message}", code=code)


def _refused(op: str, response: requests.Response) -> WorkspaceError:
    doc = _json(response)
    error = doc.get("error") if isinstance(doc, Mapping) else None
    code = str(error.get("code")) if isinstance(error, Mapping) and error.get("code") else response.reason
    message = str(error.get("message")) if isinstance(error, Mapping) and error.get("message") else ""
    text = f"{op}: polling the operation: {response.status_code} {code}: {message}".rstrip(": ")
    return WorkspaceError(text, status=response.status_code, code=str(code or ""))


def _json(response: requests.Response) -> Any:
    if not response.content:
        return {}
    try:
        return load_json(response.content, "")
    except WorkspaceError:  # not JSON, or nested too deep: no status in it either way
        return {}


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms`, `x-ms-retry-after-ms` or `Retry-After` (seconds
    or an HTTP date), as azure-core reads them; None when absent or unreadable."""
    for name, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001), ("Retry-After", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            pass
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            continue
    return None


def _service_timeout(response: requests.Response) -> float | None:
    """`x-ms-async-operation-timeout`, an ISO 8601 duration such as `PT1H`, in seconds."""
    found = _DURATION.match(response.headers.get("x-ms-async-operation-timeout", "").strip())
    if found is None or not any(found.groups()):
        return None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in found.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds
