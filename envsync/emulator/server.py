"""An ARM-compatible Azure ML emulator: a real HTTP server on a loopback address, backed by
`LocalWorkspace`, with optional latency, throttling and injected faults. With `arm_throttle`
it enforces ARM's real limits (token buckets per subscription and principal, `envsync/http/throttle.py`);
blob endpoints are storage, not ARM, and never count against them.

`envsync emulator` runs it in the foreground; tests and benchmarks call `start_emulator`, which
serves from a background thread and counts requests (also at GET /_emulator/stats).
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from envsync.emulator import access, faults, routes, tls
from envsync.emulator.blob import blob_error, handle_blob
from envsync.emulator.control import Hold, Sequencer
from envsync.emulator.core import Backend, Reply, Request, arm_error
from envsync.emulator.faults import Fault, FaultInjector, Snapshot, Stats
from envsync.emulator.operations import Operations
from envsync.emulator.options import EmulatorOptions
from envsync.emulator.registry import Registries
from envsync.emulator.routes import BLOB_PREFIX, kind_of
from envsync.errors import EnvsyncError
from envsync.http.throttle import ArmThrottle, Decision, principal_of

STATS_PATH = "/_emulator/stats"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    scheme = "http"

    def __init__(self, address: tuple[str, int], backend: Backend, options: EmulatorOptions):
        super().__init__(address, _Handler)
        self.backend, self.options = backend, options
        self.faults = FaultInjector(
            fault_rate=options.fault_rate, throttle_rate=options.throttle_rate, seed=options.seed
        )
        self.stats = Stats()
        self.sequencer = Sequencer()
        self.throttle = ArmThrottle(options.limits()) if options.arm_throttle else None
        operations = Operations(options.operation_seconds, options.operation_failure_rate, options.seed)
        self.registries = Registries(operations)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client killed mid-request: no noise
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), self.server_address[1]
        return f"{self.scheme}://[{host}]:{port}" if ":" in host else f"{self.scheme}://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client's connection pool is exercised
    server: _Server
    timeout = 30  # seconds an idle keep-alive connection is kept
    # Headers and body leave in one segment: otherwise Nagle + delayed ACK add ~40 ms a request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def handle(self) -> None:
        if tls.handshake(self.request):
            super().handle()

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base signature
        pass  # quiet: request lines would carry SAS signatures

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if parts.path == STATS_PATH:
            self._send(method, Reply(200, self.server.stats.snapshot().to_json()))
            return
        req = Request(
            method=method,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            base_url=self.server.url,
            raw_query=parts.query,
        )
        kind = kind_of(method, parts.path, req.query)
        sequence, hold = self.server.sequencer.arrive()
        try:
            if hold is not None and hold.block(kind):  # dropped unhandled: the client sees a reset
                self.close_connection = True
            else:
                self._serve(req, kind, sequence)
        finally:
            if hold is not None:
                hold.finish()

    def _serve(self, req: Request, kind: str, sequence: int) -> None:
        method, options = req.method, self.server.options
        fault = self.server.faults.draw(sequence)
        decision = self._admit(req) if fault is Fault.NONE else None
        if decision is not None and not decision.allowed:
            fault = Fault.THROTTLE
        self.server.stats.count(method, kind, fault)
        if options.latency_ms:
            time.sleep(options.latency_ms / 1000)
        if fault is Fault.RESET_BEFORE:
            self.close_connection = True
            return
        injected = faults.injected(
            fault, decision, options.retry_after, blob=req.path.startswith(BLOB_PREFIX)
        )
        reply = injected or self._answer(req, decision)
        reply = faults.echoed(reply, req) if options.echo_secrets else reply
        if fault is Fault.RESET_AFTER:
            self.close_connection = True  # the work is done but the answer is lost
            return
        self._send(method, reply)

    def _admit(self, req: Request) -> Decision | None:
        """ARM's verdict on an authenticated ARM request when `arm_throttle` is on, else None."""
        subscription = routes.arm_subscription(req.path)
        token = req.headers.get("authorization", "")
        if self.server.throttle is None or subscription is None or not token.startswith("Bearer "):
            return None
        return self.server.throttle.admit(subscription, principal_of(token), req.method)

    def _answer(self, req: Request, decision: Decision | None = None) -> Reply:
        options = self.server.options
        if req.path.startswith(BLOB_PREFIX):
            refused = access.blob_refusal(options, req)
            if refused is not None:
                return blob_error(403, *refused)
            return handle_blob(self.server.backend, req, req.path[len(BLOB_PREFIX) :])
        if not routes.served(req.path):
            return arm_error(404, "NotFound", f"The emulator does not serve {req.path}.")
        if not re.match(r"Bearer \S+", req.headers.get("authorization", "")):
            message = "Authentication failed. The 'Authorization' header is missing or not a Bearer token."
            return arm_error(401, "AuthenticationFailed", message)
        reply = access.arm_reply(options, req) or routes.answer(
            self.server.backend, self.server.registries, req
        )
        if routes.arm_subscription(req.path) is None:
            return reply  # the registry data plane is not ARM: no ARM limits
        limits = decision.headers() if decision else faults.unlimited_headers(req.method)
        return Reply(reply.status, reply.payload, {**reply.headers, **limits})

    def _send(self, method: str, reply: Reply) -> None:
        if isinstance(reply.payload, bytes):
            data, ctype = reply.payload, "application/octet-stream"
        elif reply.payload is None:
            data, ctype = b"", ""
        else:
            data, ctype = json.dumps(reply.payload).encode(), "application/json; charset=utf-8"
        self.send_response(reply.status)
        headers = {"x-ms-request-id": str(uuid.uuid4()), **({"Content-Type": ctype} if ctype else {})}
        for name, value in {**headers, **reply.headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)


# -- lifecycle ------------------------------------------------------------------------------------


class EmulatorHandle:
    """A running emulator: its `url`, its request counters, and `stop()`."""

    def __init__(self, server: _Server, thread: threading.Thread, cleanup: Path | None, bundle: Path | None):
        self._server, self._thread, self._cleanup = server, thread, cleanup
        self.url = server.url
        self.ca_bundle = bundle  # with `tls`: the CA certificate that verifies `url`

    def stats(self) -> Snapshot:
        return self._server.stats.snapshot()

    def operations_in_progress(self) -> int:
        """Registry writes still InProgress (ended lazily: by the next request that looks)."""
        return self._server.registries.operations.in_progress()

    def settle(self, seconds: float | None = None) -> None:
        """Let the list lag pass (all of it by default) without waiting: lists catch up."""
        lag = self._server.backend.lag
        if lag is not None:
            lag.advance(lag.seconds if seconds is None else seconds)

    def reset_stats(self) -> None:
        self._server.stats.reset()

    def set_faults(self, *, fault_rate: float = 0.0, throttle_rate: float = 0.0) -> None:
        """Change the injected fault rates from the next request on (the seed stays)."""
        seed = self._server.faults.seed
        self._server.faults = FaultInjector(fault_rate=fault_rate, throttle_rate=throttle_rate, seed=seed)

    def hold(self, nth: int, *, drop: bool = False) -> Hold:
        """Hold the `nth` request from now (1: the next) before handling it, until released."""
        return self._server.sequencer.hold(nth, drop=drop)

    def stop(self) -> None:
        self._server.sequencer.release_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server.backend.close()
        if self._cleanup is not None:
            shutil.rmtree(self._cleanup, ignore_errors=True)

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(
    db_path: Path | str | None = None, *, host: str = "127.0.0.1", port: int = 0, **options: Any
) -> EmulatorHandle:
    """Serve from a background thread; `options` are `EmulatorOptions` fields. Without
    `db_path` the state lives in a temporary directory removed by `stop()`."""
    check_host(host)
    opts = EmulatorOptions(**options)
    opts.check()
    cleanup = Path(tempfile.mkdtemp(prefix="envsync-emulator-")) if db_path is None or opts.tls else None
    if db_path is None:
        assert cleanup is not None
        db_path = cleanup / "workspace.db"
    secret = secrets.token_bytes(32)
    storage = opts.storage(secret)
    backend = Backend(
        Path(db_path),
        isolate=opts.isolate,
        secret=secret,
        page_size=opts.page_size,
        storage=storage,
        realism=opts.realism,
        list_lag_s=opts.list_lag_s(),
        check_responses=opts.check_responses,
    )
    try:
        server = _Server((host, port), backend, opts)
    except OSError as e:
        raise EnvsyncError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    bundle = None
    if opts.tls:
        assert cleanup is not None
        context, bundle = tls.server_context(cleanup)
        server.socket, server.scheme = tls.wrap(server.socket, context), "https"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="envsync-emulator", daemon=True
    )
    thread.start()
    return EmulatorHandle(server, thread, cleanup, bundle)


def check_host(host: str) -> None:
    """Only loopback: the emulator has no real authentication."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise EnvsyncError(f"the emulator listens on loopback addresses only (127.0.0.1, ::1), not {host}")
