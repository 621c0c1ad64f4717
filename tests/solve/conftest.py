"""A conda channel in a temporary folder and a package index (pypiserver) on 127.0.0.1, once
per session; a repository whose envsync.yaml points the solver at both."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.solve.packages import write_channel, write_wheel

CHANNEL = "local-forge"


@pytest.fixture(scope="session")
def channels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder that holds the channel `local-forge` (the alias the config names)."""
    base = tmp_path_factory.mktemp("channels")
    write_channel(base / CHANNEL)
    return base


@pytest.fixture(scope="session")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """pypiserver serving tinyreq 1.0 and 2.0 (2.0 needs Python 3.11) and tinyapp 1.0 (needs
    tinyreq>=2): tinyapp resolves on 3.11 and not on 3.10."""
    folder = tmp_path_factory.mktemp("wheels")
    write_wheel(folder, "tinyreq", "1.0")
    write_wheel(folder, "tinyreq", "2.0", python=">=3.11")
    write_wheel(folder, "tinyapp", "1.0", requires=("tinyreq>=2",))
    port = _free_port()
    command = [sys.executable, "-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen([*command, "-a", ".", "-P", ".", str(folder)], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/simple/"
    try:
        _wait_until_serving(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_serving(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"pypiserver exited with {server.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise RuntimeError("pypiserver did not start in 30s")


def solve_config(channel_alias: str, index_url: str, extra: str = "") -> str:
    return (
        f"solve:\n  conda:\n    channel_alias: {channel_alias}\n  pip:\n    index_url: {index_url}\n{extra}"
    )


@pytest.fixture
def repo(tmp_path: Path, channels: Path, index_url: str) -> Path:
    (tmp_path / "envsync.yaml").write_text(solve_config(channels.as_uri() + "/", index_url))
    (tmp_path / "environments").mkdir()
    return tmp_path
