"""Retries that show themselves and end: each one reported (reason and wait) to a callback,
each request bounded by a total deadline, and a host that never accepted a connection given
up on after `first_contact_retries`, so an unreachable endpoint fails in seconds.

The schedule is urllib3's (exponential from `backoff`, capped, with jitter; `Retry-After`
honoured up to `retry_after_max`); the loop is here rather than inside urllib3 so that it can
report, keep a deadline across attempts and read each body within what is left of it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests

from envsync.errors import NetworkError
from envsync.http import network
from envsync.http.redact import one_line, redact

if TYPE_CHECKING:
    from envsync.http.session import HttpOptions

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryNotice:
    """One retry about to be waited for: what failed, why, and how long until the next attempt."""

    op: str
    attempt: int  # the attempt that failed, from 1
    attempts: int  # the most there may be
    reason: str
    wait: float

    def line(self) -> str:
        return (
            f"retrying {self.op} in {self.wait:.1f}s: {self.reason} "
            f"(attempt {self.attempt} of {self.attempts})"
        )


@dataclass(frozen=True)
class Phase:
    """A part of a command (reading a workspace, applying to it) with a deadline of its own."""

    label: str
    seconds: float
    end: float  # time.monotonic()

    def passed(self) -> bool:
        return time.monotonic() >= self.end

    def message(self, op: str) -> str:
        return (
            f"{op}: {self.label} did not finish within {self.seconds:g}s (its deadline; "
            "ENVSYNC_PHASE_TIMEOUT sets it)"
        )


Notify = Callable[[RetryNotice], None]
Attempt = Callable[[float], requests.Response]  # one attempt, given the seconds it may take


class Retrier:
    """Runs requests under one `HttpOptions`' retry policy; thread-safe."""

    def __init__(self, options: HttpOptions):
        self.options = options
        self._reached: set[str] = set()  # origins that answered once: past first contact
        self._lock = threading.Lock()
        self._phase: Phase | None = None  # one for the session: its requests run in many threads

    @contextmanager
    def phase(self, label: str, seconds: float) -> Iterator[None]:
        """Every request made until the block ends must end by `seconds` from now."""
        previous, self._phase = self._phase, Phase(label, seconds, time.monotonic() + seconds)
        try:
            yield
        finally:
            self._phase = previous

    def run(self, op: str, url: str, attempt: Attempt, secrets: tuple[str, ...] = ()) -> requests.Response:
        """`attempt`'s answer: the first that needs no retry, or the last one. A request that
        never got an answer raises `NetworkError` naming the cause."""
        phase = self._phase
        if phase is not None and phase.passed():
            raise NetworkError(phase.message(op))
        deadline = time.monotonic() + self.options.request_deadline
        deadline = min(deadline, phase.end) if phase is not None else deadline
        number = 0
        while True:
            number += 1
            budget = min(self.options.attempt_deadline, deadline - time.monotonic())
            try:
                response = attempt(max(budget, 0.001))
            except requests.RequestException as e:
                limit = self._limit(e, url)
                wait = self._wait(number, limit, deadline)
                if wait is None:
                    if phase is not None and phase.passed():
                        raise NetworkError(phase.message(op)) from None
                    raise self._failed(op, url, e, number, secrets) from None
                reason = network.explain(e, url, self._timeouts())
            else:
                self._reach(url)
                limit = self.options.retries
                wait = self._after_status(response, number, deadline)
                if wait is None:
                    response.attempts = number  # type: ignore[attr-defined]
                    return response
                reason = f"{response.status_code} {response.reason or ''}".strip()
                response.close()
            self._notify(RetryNotice(op, number, limit + 1, one_line(redact(reason, secrets)), wait))
            time.sleep(wait)

    def _limit(self, error: requests.RequestException, url: str) -> int:
        """How many retries a failure without an answer gets."""
        if not network.is_retriable(error):
            return 0
        if network.is_connect_failure(error) and not self._reached_origin(url):
            return min(self.options.retries, self.options.first_contact_retries)
        return self.options.retries

    def _after_status(self, response: requests.Response, number: int, deadline: float) -> float | None:
        if response.status_code not in RETRY_STATUSES:
            return None
        asked = retry_after(response.headers.get("Retry-After"), self.options.retry_after_max)
        return self._wait(number, self.options.retries, deadline, asked)

    def _wait(self, number: int, limit: int, deadline: float, asked: float | None = None) -> float | None:
        """Seconds to wait before attempt `number + 1`; None when there is to be none."""
        if number > limit:
            return None
        options = self.options
        wait = asked
        if wait is None:
            wait = min(options.backoff_max, options.backoff * 2 ** (number - 1))
            wait += random.uniform(0, options.jitter)  # noqa: S311 - jitter, not secrecy
        return wait if time.monotonic() + wait < deadline else None

    def _failed(
        self, op: str, url: str, error: requests.RequestException, number: int, secrets: tuple[str, ...]
    ) -> NetworkError:
        tried = f" (gave up after {number} attempts)" if number > 1 else ""
        reason = network.explain(error, url, self._timeouts())
        return NetworkError(one_line(redact(f"{op}: {reason}{tried}", secrets)))

    def _timeouts(self) -> tuple[float, float]:
        return (self.options.connect_timeout, self.options.read_timeout)

    def _notify(self, notice: RetryNotice) -> None:
        if self.options.on_retry is not None:
            self.options.on_retry(notice)

    def _reach(self, url: str) -> None:
        with self._lock:
            self._reached.add(_origin(url))

    def _reached_origin(self, url: str) -> bool:
        with self._lock:
            return _origin(url) in self._reached


def retry_after(value: str | None, cap: float) -> float | None:
    """A `Retry-After` header's wait in seconds (delta-seconds or an HTTP-date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), cap)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"
