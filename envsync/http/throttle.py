"""Azure Resource Manager's request limits as token buckets, on both sides of the wire.

Since 2024 ARM throttles per subscription, per principal and per operation type with token
buckets (learn.microsoft.com: azure-resource-manager/management/request-limits-and-throttling):
reads hold 250 tokens refilling 25 a second; writes and deletes, each their own bucket, hold 200
refilling 10 a second. Every answer carries `x-ms-ratelimit-remaining-subscription-{reads,
writes,deletes}`; past the limit it is 429 with `Retry-After`.

`ArmThrottle` enforces that in the emulator. `Pacer` is the client's mirror of it: it takes a
token before each request and waits when there is none, so a large plan or apply runs at the
limit instead of into a wall of 429s. `TokenBucket` and `PacerState` take the time as an
argument (no clock inside), so they are tested with plain numbers.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

READS, WRITES, DELETES = "reads", "writes", "deletes"
HEADER = "x-ms-ratelimit-remaining-subscription-{}"


def operation_of(method: str) -> str:
    """ARM's operation type: GET and HEAD read, DELETE deletes, anything else (PUT, POST,
    PATCH) writes."""
    method = method.upper()
    if method in ("GET", "HEAD"):
        return READS
    return DELETES if method == "DELETE" else WRITES


@dataclass(frozen=True)
class Limits:
    """Bucket sizes and refill rates (tokens a second); writes' numbers serve deletes too."""

    read_bucket: int = 250
    read_refill: float = 25.0
    write_bucket: int = 200
    write_refill: float = 10.0

    def __post_init__(self) -> None:
        if min(self.read_bucket, self.write_bucket) < 1 or min(self.read_refill, self.write_refill) <= 0:
            raise ValueError("buckets must hold at least 1 token and refill at a positive rate")

    def bucket(self, operation: str, now: float) -> TokenBucket:
        if operation == READS:
            return TokenBucket(self.read_bucket, self.read_refill, self.read_bucket, now)
        return TokenBucket(self.write_bucket, self.write_refill, self.write_bucket, now)


@dataclass
class TokenBucket:
    """Up to `capacity` tokens, `refill` more each second, starting at `tokens` at time `stamp`.
    Not thread-safe: its owner locks."""

    capacity: float
    refill: float
    tokens: float
    stamp: float

    def level(self, now: float) -> float:
        """Tokens available at `now` (fractional)."""
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.refill)
            self.stamp = now
        return self.tokens

    def take(self, now: float) -> bool:
        """Spend one token if there is one."""
        if self.level(now) < 1:
            return False
        self.tokens -= 1
        return True

    def wait(self, now: float) -> float:
        """Seconds until one whole token is available (0 if one is now)."""
        return max(0.0, (1 - self.level(now)) / self.refill)

    def sync(self, tokens: float, now: float) -> None:
        """Hold exactly `tokens` from `now` (may be negative: a debt repaid by the refill)."""
        self.level(now)
        self.tokens = min(self.capacity, tokens)


# -- server side (the emulator) ------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    allowed: bool
    operation: str
    remaining: int  # whole tokens left after this request
    retry_after: int = 0  # seconds, when refused: until a token is available, rounded up, >= 1

    def headers(self) -> dict[str, str]:
        extra = {"Retry-After": str(self.retry_after)} if not self.allowed else {}
        return {HEADER.format(self.operation): str(self.remaining), **extra}


def principal_of(authorization: str) -> str:
    """Who is calling, without keeping the token: a hash of the bearer value."""
    return hashlib.sha256(authorization.encode()).hexdigest()[:16]


class ArmThrottle:
    """ARM's buckets per (subscription, principal, operation type). Thread-safe."""

    def __init__(self, limits: Limits = Limits(), clock: Callable[[], float] = time.monotonic):
        self.limits, self._clock = limits, clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}

    def admit(self, subscription: str, principal: str, method: str) -> Decision:
        operation = operation_of(method)
        key = (subscription.lower(), principal, operation)
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = self.limits.bucket(operation, now)
            if bucket.take(now):
                return Decision(True, operation, int(bucket.level(now)))
            return Decision(False, operation, 0, max(1, math.ceil(bucket.wait(now))))


# -- client side ------------------------------------------------------------------------------------


class PacerState:
    """One operation type's client-side bucket, mirroring ARM's and synced down to what ARM
    reports. Until the first answer says how much is left, one request at a time: another
    process (an earlier plan, say) may have drained ARM's bucket already."""

    def __init__(self, bucket: TokenBucket):
        self.bucket, self.inflight, self.known = bucket, 0, False

    def delay(self, now: float) -> float:
        """0 and a token spent if a request may go now, else seconds to wait before asking again."""
        if not self.known and self.inflight:
            return 0.05  # the probe's answer, or this much, whichever comes first
        if not self.bucket.take(now):
            return self.bucket.wait(now)
        self.inflight += 1
        return 0.0

    def settle(self, remaining: int | None, now: float) -> None:
        """A request finished; `remaining` is its answer's header (None: none, or no answer)."""
        self.inflight -= 1
        if remaining is None:
            self.known = True  # no header (a server without limits): pace by the bucket alone
            return
        self.known = True
        # ARM's count is the truth, up or down (it may allow more than modelled); it counted
        # this request but maybe not the others still in flight: count them too.
        self.bucket.capacity = max(self.bucket.capacity, remaining)
        self.bucket.sync(remaining - self.inflight, now)


class Pacer:
    """The client's side of ARM's limits, shared by a session's threads."""

    def __init__(self, limits: Limits = Limits()):
        self._cond = threading.Condition()
        now = time.monotonic()
        self._states = {op: PacerState(limits.bucket(op, now)) for op in (READS, WRITES, DELETES)}

    def acquire(self, method: str) -> str:
        """Block until `method` may be sent; returns the operation type for `release`."""
        operation = operation_of(method)
        state = self._states[operation]
        with self._cond:
            while (wait := state.delay(time.monotonic())) > 0:
                self._cond.wait(wait)
        return operation

    def spare(self, method: str) -> float:
        """Tokens `method` could spend now without waiting (a snapshot: others may take them)."""
        state = self._states[operation_of(method)]
        with self._cond:
            return state.bucket.level(time.monotonic())

    def release(self, operation: str, headers: Mapping[str, str] | None) -> None:
        value = (headers or {}).get(HEADER.format(operation))
        remaining = int(value) if value is not None and value.strip().isdigit() else None
        with self._cond:
            self._states[operation].settle(remaining, time.monotonic())
            self._cond.notify_all()
