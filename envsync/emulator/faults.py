"""The emulator's misbehaviour and bookkeeping: injected faults, throttling, rate-limit
headers and request counters. Seeded, so a failing run can be replayed."""

from __future__ import annotations

import enum
import random
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

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
    connection reset with `fault_rate`."""

    def __init__(self, *, fault_rate: float = 0.0, throttle_rate: float = 0.0, seed: int | None = None):
        for label, rate in (("fault rate", fault_rate), ("throttle rate", throttle_rate)):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"{label} must be in [0, 1): {rate}")
        self.fault_rate, self.throttle_rate = fault_rate, throttle_rate
        self._random = random.Random(seed)  # noqa: S311 - fault injection, not cryptography
        self._lock = threading.Lock()

    def draw(self) -> Fault:
        if not (self.fault_rate or self.throttle_rate):
            return Fault.NONE
        with self._lock:
            if self._random.random() < self.throttle_rate:
                return Fault.THROTTLE
            if self._random.random() < self.fault_rate:
                return self._random.choice(_ERRORS)
        return Fault.NONE


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
