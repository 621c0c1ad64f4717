"""Retries are visible and bounded: one notice per retry, a total deadline per request, a body
that trickles in ends, and a host never reached is given up on after first contact."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from envsync.errors import NetworkError, WorkspaceError
from envsync.http.retrying import RetryNotice, retry_after
from envsync.http.session import HttpOptions, StaticTokenCredential
from envsync.workspace.azure.workspace import AzureMLWorkspace
from tests.workspace.recorder import Answer, recording, sequence

WS = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w"
CONTAINER = {"name": "py", "properties": {"tags": {}, "latestVersion": "1"}}
BUSY = Answer(503, {"error": {"code": "ServiceUnavailable", "message": "busy"}})


def client(url: str, **http: object) -> AzureMLWorkspace:
    options = HttpOptions(**{"retries": 3, "backoff": 0.001, "jitter": 0.0, **http})  # type: ignore[arg-type]
    return AzureMLWorkspace(url + WS, StaticTokenCredential("test-token-123"), http=options)


def test_each_retry_is_reported_with_its_reason_and_wait() -> None:
    notices: list[RetryNotice] = []
    with recording(sequence(BUSY, Answer(429, None, {"Retry-After": "0"}), Answer(200, CONTAINER))) as server:
        assert client(server.url, on_retry=notices.append).get_environment("py") is not None
    assert [(n.attempt, n.attempts, n.reason) for n in notices] == [
        (1, 4, "503 Service Unavailable"),
        (2, 4, "429 Too Many Requests"),
    ]
    assert notices[1].wait == 0.0  # Retry-After honoured
    assert notices[0].line().startswith("retrying GET environments/py in 0.0s: 503 Service Unavailable")


def test_a_retry_after_beyond_the_request_deadline_is_not_waited_for() -> None:
    slow = Answer(503, {"error": {"code": "ServiceUnavailable", "message": "later"}}, {"Retry-After": "30"})
    start = time.monotonic()
    with recording(sequence(slow)) as server, pytest.raises(WorkspaceError) as info:
        client(server.url, request_deadline=2.0).get_environment("py")
    assert time.monotonic() - start < 1.5
    assert str(info.value) == "GET environments/py: 503 ServiceUnavailable: later"


def test_a_host_never_reached_gets_first_contact_retries_only() -> None:
    notices: list[RetryNotice] = []
    start = time.monotonic()
    with pytest.raises(NetworkError, match=r"refused the connection.*\(gave up after 2 attempts\)$"):
        client("http://127.0.0.1:9", retries=6, on_retry=notices.append).get_environment("py")
    assert time.monotonic() - start < 2
    assert [(n.attempt, n.attempts) for n in notices] == [(1, 2)]


@contextmanager
def trickling(delay: float) -> Iterator[str]:
    """A server that sends its headers, then its body a byte at a time every `delay` seconds."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
                )
                for _ in range(500):
                    if stop.is_set():
                        break
                    try:
                        conn.sendall(b" ")
                    except OSError:
                        break
                    time.sleep(delay)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_a_trickling_answer_ends_at_the_deadline() -> None:
    """Every byte arrives well within the read timeout, so only a total deadline ends it."""
    start = time.monotonic()
    with trickling(0.02) as url, pytest.raises(NetworkError) as info:
        client(url, retries=0, attempt_deadline=0.5, read_timeout=5).get_environment("py")
    assert time.monotonic() - start < 2
    assert str(info.value).endswith("the answer from 127.0.0.1 did not arrive in full within 0.5s")


@pytest.mark.parametrize(
    ("value", "seconds"), [("3", 3.0), ("0", 0.0), ("500", 120.0), ("soon", None), (None, None)]
)
def test_retry_after_values(value: str | None, seconds: float | None) -> None:
    assert retry_after(value, 120.0) == seconds


def test_retry_after_as_an_http_date() -> None:
    from email.utils import formatdate

    found = retry_after(formatdate(time.time() + 5, usegmt=True), 120.0)
    assert found is not None and 3 <= found <= 5
