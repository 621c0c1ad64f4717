"""Azurite, Microsoft's storage emulator, started for the tests on 127.0.0.1.

It serves HTTPS (a certificate made by trustme) with `--oauth basic`, so it accepts all three of
envsync's ways in: an account key, a SAS and a bearer token (which Azure Storage, and
azure-storage-blob, allow only over TLS). Where it comes from: `ENVSYNC_AZURITE` (the path of
`azurite-blob`), else `.ci/azurite` (`npm ci --prefix .ci/azurite`, run on first use when npm
is there; `.ci/run` runs it first), else PATH.

Tests that need it fail, saying how to install it, when it cannot be found: CI must run them.
`ENVSYNC_SKIP_AZURITE=1` skips them instead, on a machine without Node (`.ci/run` never sets it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.node_tools import installed

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".ci" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT = "devstoreaccount1"
READY = re.compile(r"successfully listens on (https?://127\.0\.0\.1:\d+)")
INSTALL = (
    "npm ci --prefix .ci/azurite  (Node 20+; installs Azurite 3.35.0 from .ci/azurite/package-lock.json)"
)


@dataclass(frozen=True)
class Azurite:
    url: str  # https://127.0.0.1:PORT
    ca_bundle: Path  # the CA certificate that verifies it

    @property
    def account_url(self) -> str:
        return f"{self.url}/{ACCOUNT}"


def executable() -> str | None:
    named = os.environ.get("ENVSYNC_AZURITE")
    if named:
        return named if os.access(named, os.X_OK) else None
    if installed(LOCAL, ["ci", "--prefix", ".ci/azurite"]):  # the pinned lockfile's Azurite
        return str(LOCAL)
    return shutil.which("azurite-blob")


def require() -> str:
    """The azurite-blob executable, or a skip (ENVSYNC_SKIP_AZURITE=1) or a failure saying why."""
    found = executable()
    if found is not None:
        return found
    if os.environ.get("ENVSYNC_SKIP_AZURITE") == "1":
        pytest.skip("Azurite is not installed and ENVSYNC_SKIP_AZURITE=1")
    where = os.environ.get("ENVSYNC_AZURITE") or f"{LOCAL.relative_to(ROOT)} or PATH"
    pytest.fail(
        f"Azurite (azurite-blob) not found at {where}: run `{INSTALL}`, "
        "or set ENVSYNC_SKIP_AZURITE=1 to skip the tests that need it",
        pytrace=False,
    )


@contextmanager
def running(folder: Path, *, timeout: float = 30.0) -> Iterator[Azurite]:
    """Azurite on a free port, over HTTPS, storing blobs under `folder`; stopped at exit."""
    import trustme

    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    ca, cert, key = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    authority.cert_pem.write_to_path(str(ca))
    certificate.cert_chain_pems[0].write_to_path(str(cert))
    certificate.private_key_pem.write_to_path(str(key))
    (folder / "data").mkdir()
    command = [
        require(),
        *("--blobHost", "127.0.0.1", "--blobPort", "0", "--location", str(folder / "data")),
        *("--oauth", "basic", "--cert", str(cert), "--key", str(key)),
        # SDKs newer than Azurite send an x-ms-version it does not know; telemetry off: no
        # outbound connection attempts.
        *("--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield Azurite(_wait_ready(process, timeout), ca)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen[str], timeout: float) -> str:
    """The URL from Azurite's readiness line; its output is drained afterwards."""
    assert process.stdout is not None
    found: list[str] = []
    seen: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if not ready.is_set():
                seen.append(line.rstrip())
                match = READY.search(line)
                if match:
                    found.append(match[1])
                    ready.set()
        ready.set()  # the process ended

    threading.Thread(target=read, daemon=True, name="azurite-output").start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.05):
        if time.monotonic() > deadline:
            break
    if not found:
        output = "\n".join(seen[-20:])
        raise RuntimeError(f"Azurite did not start (exit {process.poll()}):\n{output}")
    return found[0]


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    folder = Path(tempfile.mkdtemp(prefix="envsync-azurite-"))
    try:
        with running(folder) as handle:
            yield handle
    finally:
        shutil.rmtree(folder, ignore_errors=True)
