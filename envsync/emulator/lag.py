"""Lists that lag writes, as the service's do: a list shows each item as it was `lag` seconds ago
(an item made since is missing, one changed since shows its old state), while a GET of the item
itself is current. azure-ai-ml's end-to-end tests sleep before listing for this reason
(azureml-api.md §3).

The emulator records each item's state after every write; a list replaces what it would show
by the newest state recorded at least `lag` seconds ago. Items never written through the
emulator (the curated catalog) have no history and show as they are. The clock can be moved
forward (`advance`), so a test can let the lag pass without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class ListLag(Generic[T]):
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self._clock = clock
        self._offset = 0.0
        self._lock = threading.Lock()
        self._history: dict[Hashable, list[tuple[float, T]]] = {}

    def now(self) -> float:
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward: lists catch up as if `seconds` had passed."""
        with self._lock:
            self._offset += seconds

    def record(self, key: Hashable, state: T) -> None:
        """`key` holds `state` from now on."""
        with self._lock:
            now = self.now()
            history = self._history.setdefault(key, [])
            history.append((now, state))
            # Keep the newest state old enough to show, and everything since.
            old = [i for i, (at, _) in enumerate(history) if at <= now - self.seconds]
            if len(old) > 1:
                del history[: old[-1]]

    def listed(self, items: Iterable[T], key: Callable[[T], Hashable]) -> list[T]:
        """`items` (current, in list order) as a list made `seconds` ago would show them."""
        with self._lock:
            horizon = self.now() - self.seconds
            shown = []
            for item in items:
                history = self._history.get(key(item))
                if history is None:
                    shown.append(item)
                    continue
                seen = [state for at, state in history if at <= horizon]
                if seen:
                    shown.append(seen[-1])
            return shown
