"""Start `envsync` commands as processes in a few milliseconds: a zygote process imports
envsync once, then forks one child per command (no threads exist in it when it forks). A
test can SIGKILL a child at a precise point, as CI kills a cancelled job, for the cost of a
fork instead of a Python start-up per run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

_ZYGOTE = r"""
import importlib, json, os, pkgutil, signal, sys
import deepdiff, envsync, envsync.cli, git, jsonschema, requests, yaml
from envsync.spec.schemas import validator
for module in pkgutil.walk_packages(envsync.__path__, "envsync."):  # what commands import lazily
    if module.name != "envsync.__main__":  # which would run the CLI
        importlib.import_module(module.name)
for name in ("config", "environment", "plan"):
    validator(name)  # compiled once, before any fork
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
for line in sys.stdin:
    args, env, out = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.environ.update(env)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        code = 1
        try:
            envsync.cli.cli.main(args, prog_name="envsync")
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    print(pid, flush=True)
"""


class Forker:
    def __init__(self) -> None:
        self._zygote = subprocess.Popen(
            [sys.executable, "-c", _ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def start(self, args: list[str], out: Path, env: dict[str, str]) -> int:
        """Start `envsync ARGS` (output to `out`); its pid."""
        assert self._zygote.stdin is not None and self._zygote.stdout is not None
        self._zygote.stdin.write(json.dumps([args, env, str(out)]) + "\n")
        self._zygote.stdin.flush()
        return int(self._zygote.stdout.readline())

    def close(self) -> None:
        self._zygote.kill()
        self._zygote.wait()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def kill(pid: int, timeout: float = 10) -> None:
    """SIGKILL `pid` and wait until it is gone."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            raise AssertionError(f"process {pid} survived SIGKILL")
        time.sleep(0.005)
