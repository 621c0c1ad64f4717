"""Test controls of the emulator: each request's sequence number (its order of arrival at the
server), which keys its fault draw so that a seed replays the same faults whatever the client's
thread timing; and holding request N until the test releases it, so a test can kill a client
at an exact point of its run (after its Nth request reached the server)."""

from __future__ import annotations

import threading

HOLD_LIMIT = 300.0  # seconds a held request waits for its release: a forgotten hold never hangs


class Hold:
    """Request `number` (counted from 1 when the hold was made), held before it is handled.
    `wait()` tells when it arrived; `release()` lets it go on: handled (the server completes
    the work, as when only the answer is lost), or dropped unhandled with `drop`."""

    def __init__(self, number: int, *, drop: bool = False):
        self.number, self.drop = number, drop
        self.request = ""  # what the held request does, e.g. "versions.put", once it arrived
        self._arrived = threading.Event()
        self._released = threading.Event()
        self._finished = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the request arrived and is held (False on timeout)."""
        return self._arrived.wait(timeout)

    def release(self, *, wait: float | None = None) -> bool:
        """Let the request go on; with `wait`, up to that many seconds for the server to finish
        it (handled or dropped). True once finished."""
        self._released.set()
        return self._finished.wait(wait) if wait is not None else self._finished.is_set()

    @property
    def arrived(self) -> bool:
        return self._arrived.is_set()

    def block(self, request: str) -> bool:
        """Called by the server's handler thread: hold until released; True means drop it."""
        self.request = request
        self._arrived.set()
        self._released.wait(HOLD_LIMIT)
        return self.drop

    def finish(self) -> None:
        """Called by the server once the held request was handled or dropped."""
        self._finished.set()


class Sequencer:
    """Numbers the requests as they arrive, and hands out the holds armed for them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._holds: dict[int, Hold] = {}  # by request number, until it arrives
        self._made: list[Hold] = []

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    def hold(self, nth: int, *, drop: bool = False) -> Hold:
        """Hold the `nth` request from now (1 is the next one)."""
        if nth < 1:
            raise ValueError(f"requests are counted from 1, not {nth}")
        with self._lock:
            hold = Hold(self._count + nth, drop=drop)
            self._holds[hold.number] = hold
            self._made.append(hold)
        return hold

    def arrive(self) -> tuple[int, Hold | None]:
        """The arriving request's sequence number (from 1), and its hold if one was armed."""
        with self._lock:
            self._count += 1
            return self._count, self._holds.pop(self._count, None)

    def release_all(self) -> None:
        """Release every hold, arrived or not (the emulator is stopping)."""
        with self._lock:
            holds, self._holds, self._made = self._made, {}, []
        for hold in holds:
            hold.release()
