"""The emulator's misbehaviour and bookkeeping: injected faults, throttling, rate-limit
headers and request counters. Seeded, so a failing run can be replayed."""

from __future__ import annotations

import enum
import random
import threading
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any
from xml.sax.saxutils import escape

from envsync.emulator.blob import blob_error
from envsync.emulator.core import Reply, Request, arm_error
from envsync.http.throttle import Decision

# What an unthrottled emulator reports left: ARM's pre-2024 hourly allowance, never spent.
UNLIMITED_READS = 12_000
UNLIMITED_WRITES = 1_200


class Fault(str, enum.Enum):
    NONE = "none"
    THROTTLE = "throttle"  # 429 + Retry-After
    ERROR_500 = "500"
    ERROR_503 = "503"
    RESET_BEFORE = "reset-before"  # close the socket without handling the request
    RESET_AFTER = "reset-after"  # handle it, then close without answering (a lost response)


_ERRORS = (Fault.ERROR_500, Fault.ERROR_503, Fault.RESET_BEFORE, Fault.RESET_AFTER)


class FaultInjector:
    """Draws one fault per request: throttling with `throttle_rate`, else a server error or
    connection reset with `fault_rate`. Each draw depends only on the seed and the request's
    sequence number (its order of arrival), not on which thread asks first: a seed replays the
    same faults for the same requests (exactly, for a client sending one request at a time)."""

    def __init__(self, *, fault_rate: float = 0.0, throttle_rate: float = 0.0, seed: int | None = None):
        for label, rate in (("fault rate", fault_rate), ("throttle rate", throttle_rate)):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"{label} must be in [0, 1): {rate}")
        self.fault_rate, self.throttle_rate = fault_rate, throttle_rate
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**32)

    def draw(self, sequence: int) -> Fault:
        if not (self.fault_rate or self.throttle_rate):
            return Fault.NONE
        rng = random.Random(f"{self.seed}:{sequence}")  # noqa: S311 - fault injection, not cryptography
        if rng.random() < self.throttle_rate:
            return Fault.THROTTLE
        if rng.random() < self.fault_rate:
            return rng.choice(_ERRORS)
        return Fault.NONE


def injected(fault: Fault, decision: Decision | None, retry_after: int, *, blob: bool) -> Reply | None:
    """The answer that replaces the real one: `--arm-throttle`'s 429, or an injected fault's."""
    return refused(decision) or faulted(fault, retry_after, blob=blob)


def faulted(fault: Fault, retry_after: int, *, blob: bool = False) -> Reply | None:
    """The answer an injected fault gives instead of the real one (None: no answer replaced)."""
    if fault is Fault.THROTTLE and blob:  # how Azure Storage throttles
        return blob_error(503, "ServerBusy", "The server is busy (emulated).")
    if fault is Fault.THROTTLE:
        message = f"Too many requests (emulated). Retry after {retry_after} seconds."
        return arm_error(429, "TooManyRequests", message, **{"Retry-After": str(retry_after)})
    if fault is Fault.ERROR_500:
        return arm_error(500, "InternalServerError", "Injected internal server error.")
    if fault is Fault.ERROR_503:
        return arm_error(503, "ServiceUnavailable", "Injected: the service is unavailable.")
    return None


def refused(decision: Decision | None) -> Reply | None:
    """ARM's 429 when `--arm-throttle`'s buckets refused the request, else None."""
    if decision is None or decision.allowed:
        return None
    message = (
        f"Number of '{decision.operation}' requests for subscription and principal exceeded. "
        f"Retry after {decision.retry_after} seconds."
    )
    return arm_error(429, "TooManyRequests", message, **decision.headers())


def echoed(reply: Reply, req: Request) -> Reply:
    """An error `reply` that quotes the request's credentials back (its Authorization header,
    its URL with any SAS, its body), as careless services do: for testing that the client never
    prints what it is told (`echo_secrets`)."""
    if reply.status < 400:
        return reply
    auth = req.headers.get("authorization", "")
    echo = f" [echo: {req.method} {req.path}?{req.raw_query} Authorization: {auth} body: {req.body[:300]!r}]"
    if isinstance(reply.payload, dict) and isinstance(reply.payload.get("error"), dict):
        error = {**reply.payload["error"], "message": str(reply.payload["error"].get("message")) + echo}
        return replace(reply, payload={**reply.payload, "error": error})
    if isinstance(reply.payload, bytes) and b"</Message>" in reply.payload:
        return replace(
            reply, payload=reply.payload.replace(b"</Message>", escape(echo).encode() + b"</Message>")
        )
    return reply


def unlimited_headers(method: str) -> dict[str, str]:
    """The rate-limit header of a server that never throttles: always a full allowance, so a
    client pacing itself from it never waits (`--arm-throttle` reports ARM's real buckets)."""
    if method in ("GET", "HEAD"):
        return {"x-ms-ratelimit-remaining-subscription-reads": str(UNLIMITED_READS)}
    return {"x-ms-ratelimit-remaining-subscription-writes": str(UNLIMITED_WRITES)}


@dataclass(frozen=True)
class Snapshot:
    """Requests seen since start (or the last reset), by method and by kind of operation
    (e.g. `versions.list`, `versions.put`, `blob.put`). Faulted and throttled requests count
    too: they crossed the wire."""

    total: int
    by_method: dict[str, int]
    by_kind: dict[str, int]
    faults: int
    throttled: int

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_method": dict(self.by_method),
            "by_kind": dict(self.by_kind),
            "faults": self.faults,
            "throttled": self.throttled,
        }


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._methods: Counter[str] = Counter()
        self._kinds: Counter[str] = Counter()
        self._faults = self._throttled = 0

    def count(self, method: str, kind: str, fault: Fault) -> None:
        with self._lock:
            self._methods[method] += 1
            self._kinds[kind] += 1
            self._throttled += fault is Fault.THROTTLE
            self._faults += fault not in (Fault.NONE, Fault.THROTTLE)

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(
                total=sum(self._methods.values()),
                by_method=dict(self._methods),
                by_kind=dict(self._kinds),
                faults=self._faults,
                throttled=self._throttled,
            )

    def reset(self) -> None:
        with self._lock:
            self._methods.clear()
            self._kinds.clear()
            self._faults = self._throttled = 0
