"""The emulator's long-running operations: registry writes that stay `InProgress` for a while,
then succeed (the write happens then) or fail with an ARM error (it never happens).

An operation is settled lazily, by whichever request next looks at its registry (a poll, a
read, another write) once its time is up, under that registry's lock: nothing runs in the
background, and a client that stops polling (killed, or out of patience) still finds the
write done, or not, the next time it reads. The status resource and the Location answers
follow ARM's asynchronous-operation contract (Azure/azure-resource-manager-rpc,
async-api-reference.md): `{"id", "name", "status", "startTime", "endTime", "error"}`.
"""

from __future__ import annotations

import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from envsync.errors import WorkspaceError

IN_PROGRESS, SUCCEEDED, FAILED = "InProgress", "Succeeded", "Failed"
LOCATION = "eastus"  # where the emulator says its operations run
_FAILURE = ("InternalServerError", "Injected: the operation failed inside the service.")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Operation:
    """One write in flight against one registry (`key`)."""

    id: str
    key: str
    subscription: str
    target: tuple[str, str | None]  # (environment, version or None for the container)
    deadline: float
    work: Callable[[], None] = field(repr=False)  # the write itself, run when the operation ends
    doomed: bool = False  # fails when it ends (injected)
    status: str = IN_PROGRESS
    error: dict[str, Any] | None = None
    start_time: str = field(default_factory=_now)
    end_time: str | None = None

    def status_url(self, base_url: str, api_version: str) -> str:
        return f"{base_url}{self._path('mfeOperationsStatus')}?api-version={api_version}"

    def result_url(self, base_url: str, api_version: str) -> str:
        return f"{base_url}{self._path('mfeOperationResults')}?api-version={api_version}"

    def _path(self, kind: str) -> str:
        return (
            f"/subscriptions/{self.subscription}/providers/Microsoft.MachineLearningServices"
            f"/locations/{LOCATION}/{kind}/{self.id}"
        )

    def resource(self) -> dict[str, Any]:
        """The Azure-AsyncOperation status resource."""
        doc: dict[str, Any] = {
            "id": self._path("mfeOperationsStatus"),
            "name": self.id,
            "status": self.status,
        }
        doc["startTime"] = self.start_time
        if self.end_time:
            doc["endTime"] = self.end_time
        if self.error:
            doc["error"] = self.error
        return doc


class Operations:
    """Every operation the emulator started, by id. `seconds` is how long each stays
    InProgress; `failure_rate` the share that end Failed. Thread-safe; `settle` is called under
    the registry's own lock, so a write never races the requests that read it."""

    def __init__(
        self,
        seconds: float = 0.0,
        failure_rate: float = 0.0,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        if seconds < 0 or not 0.0 <= failure_rate < 1.0:
            raise ValueError("operation seconds must be >= 0 and the failure rate in [0, 1)")
        self.seconds, self.failure_rate, self._clock = seconds, failure_rate, clock
        self._random = random.Random(seed)  # noqa: S311 - fault injection, not cryptography
        self._lock = threading.Lock()
        self._all: dict[str, Operation] = {}

    def start(
        self, key: str, subscription: str, target: tuple[str, str | None], work: Callable[[], None]
    ) -> Operation:
        with self._lock:
            doomed = bool(self.failure_rate) and self._random.random() < self.failure_rate
            op = Operation(
                uuid.uuid4().hex, key, subscription, target, self._clock() + self.seconds, work, doomed
            )
            self._all[op.id] = op
        return op

    def find(self, op_id: str) -> Operation | None:
        with self._lock:
            return self._all.get(op_id)

    def settle(self, key: str) -> None:
        """End every operation on registry `key` whose time is up, oldest first."""
        now = self._clock()
        with self._lock:
            due = [op for op in self._all.values() if op.key == key and op.status == IN_PROGRESS]
        for op in sorted((op for op in due if op.deadline <= now), key=lambda o: o.deadline):
            self._end(op)

    def pending(self, key: str, target: tuple[str, str | None]) -> list[Operation]:
        """Operations on one asset still in progress."""
        with self._lock:
            return [
                o
                for o in self._all.values()
                if o.key == key and o.target == target and o.status == IN_PROGRESS
            ]

    def in_progress(self) -> int:
        with self._lock:
            return sum(op.status == IN_PROGRESS for op in self._all.values())

    def retry_after(self, op: Operation) -> int:
        """Whole seconds until `op` ends (Retry-After's grammar), 0 once it has."""
        return max(0, math.ceil(op.deadline - self._clock()))

    def _end(self, op: Operation) -> None:
        if op.doomed:
            op.error = {"code": _FAILURE[0], "message": _FAILURE[1]}
        else:
            try:
                op.work()
            except WorkspaceError as e:  # the write was refused when it came to it (a racing write)
                op.error = {"code": e.code or "UserError", "message": str(e)}
        op.status = FAILED if op.error else SUCCEEDED
        op.end_time = _now()
