"""A hostile endpoint for tests: a real HTTP server on 127.0.0.1 that answers from a script.

Each test scripts the answers (a regular expression over the request path → an `Answer`), so
one server can play a broken ARM, a registry data plane or a blob service: malformed fields,
bodies that never end, names that climb out of folders. Every request is recorded, headers
included, so a test can check where a token went.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Body = bytes | Callable[[], Iterable[bytes]]
_METHOD = re.compile(r"(GET|PUT|POST|PATCH|DELETE|HEAD) ")


@dataclass(frozen=True)
class Answer:
    body: Body = b"{}"
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # with its query
    headers: Mapping[str, str]


def json_answer(doc: Any, status: int = 200) -> Answer:
    return Answer(json.dumps(doc).encode(), status)


def endless(chunk: bytes = b" " * 65536, limit: int = 1 << 30) -> Answer:
    """A body that does not end (well, after `limit` bytes, so a client bug cannot hang the suite)."""

    def chunks() -> Iterator[bytes]:
        for _ in range(limit // len(chunk)):
            yield chunk

    return Answer(chunks)


class HostileServer:
    def __init__(self) -> None:
        self.routes: list[tuple[str | None, re.Pattern[str], Answer]] = []
        self.seen: list[Seen] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, routes: Mapping[str, Answer]) -> None:
        """Answer requests whose path (query left out) matches a key with its value; first match
        wins. A key may start with a method (`POST /x$`) to match that method only."""
        self.routes = []
        for key, answer in routes.items():
            method, _, pattern = key.partition(" ") if _METHOD.match(key) else (None, "", key)
            self.routes.append((method, re.compile(pattern), answer))
        self.seen = []

    def answer_for(self, method: str, path: str) -> Answer:
        bare = path.split("?", 1)[0]
        for wanted, pattern, answer in self.routes:
            if wanted in (None, method) and pattern.search(bare):
                return answer
        return json_answer({"error": {"code": "NotFound", "message": "not scripted"}}, 404)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(server: HostileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            server.seen.append(Seen(self.command, self.path, dict(self.headers.items())))
            self._send(server.answer_for(self.command, self.path))

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _any  # noqa: N815 - http.server's names

        def _send(self, answer: Answer) -> None:
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            if isinstance(answer.body, bytes):
                if "Content-Length" not in answer.headers:  # else the script lies about it on purpose
                    self.send_header("Content-Length", str(len(answer.body)))
                else:
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(answer.body)
                return
            self.send_header("Connection", "close")  # the body ends when the connection does
            self.end_headers()
            self.close_connection = True
            try:
                for chunk in answer.body():
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading: what a capped client does

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base signature
            pass

    return Handler
