"""Progress on stderr while a workspace is read: a live counter on a terminal, a line every
few seconds in a CI log, nothing with -q or when the reads end within a moment.

The planner and the observer stay unaware of it: the workspace they are handed counts its
own reads (`counting`)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from envsync.workspace import Container, RemoteVersion, Workspace

LIVE_AFTER = 0.5  # seconds: reads shorter than this never show a counter
LIVE_EVERY = 0.1  # a terminal's redraw, at most this often
LOG_EVERY = 5.0  # a CI log's line, at most this often


class ReadProgress:
    """Counts reads of one target; draws them on `stream` (thread-safe: reads run in a pool)."""

    def __init__(
        self, label: str, stream: IO[str] | None = None, clock: Callable[[], float] = time.monotonic
    ):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.label, self.clock = label, clock
        self.started = self.drawn = clock()
        self.listed = self.read = 0
        self.shown = self.closed = False
        self.lock = threading.Lock()

    def count(self, *, listed: int = 0, read: int = 0) -> None:
        with self.lock:
            self.listed += listed
            self.read += read
            if self.closed:  # apply's own re-reads: its change lines say enough
                return
            now = self.clock()
            if now - self.started < (LIVE_AFTER if self.live else LOG_EVERY):
                return
            if now - self.drawn >= (LIVE_EVERY if self.live else LOG_EVERY) or not self.shown:
                self._draw(now)

    def line(self) -> str:
        return f"{self.label}: {self.listed} environments listed, {self.read} read"

    def close(self) -> None:
        """Ends the live line (a log keeps its last line as it was)."""
        with self.lock:
            if self.live and self.shown:
                self.stream.write(f"\r\033[K{self.line()}, done\n")
                self.stream.flush()
            self.closed = True

    def _draw(self, now: float) -> None:
        self.drawn, self.shown = now, True
        self.stream.write(f"\r\033[K{self.line()}" if self.live else f"{self.line()}…\n")
        self.stream.flush()


class _Counting:
    """A workspace that counts its reads on a ReadProgress; everything else passes through."""

    def __init__(self, inner: Workspace, progress: ReadProgress):
        self._inner, self._progress = inner, progress

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def list_environments(self, *args: Any, **kwargs: Any) -> Iterator[Container]:
        for container in self._inner.list_environments(*args, **kwargs):
            self._progress.count(listed=1)
            yield container

    def get_environment(self, name: str) -> Container | None:
        found = self._inner.get_environment(name)
        self._progress.count(read=1)
        return found

    def list_versions(self, *args: Any, **kwargs: Any) -> list[RemoteVersion]:
        found = self._inner.list_versions(*args, **kwargs)
        self._progress.count(read=1)
        return found


def counting(workspace: Workspace, progress: ReadProgress | None) -> Workspace:
    """`workspace`, counting its reads on `progress` (None: as it is)."""
    if progress is None:
        return workspace
    # The Protocol's other members pass through __getattr__, which mypy cannot see.
    return cast("Workspace", _Counting(workspace, progress))
