"""The conda part: requests → the worker process (py-rattler) → an answer per request."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from envsync.errors import SolveError
from envsync.solve.model import Answer, Manager, Package
from envsync.solve.request import Request
from envsync.solve.words import mentioned, one_line, unreachable
from envsync.spec.policy import conda as conda_rules

INSTALL_HINT = "pip install 'envsync[solve]'"
FIX = "envsync solve needs the network, or a mirror (solve.conda: channel_alias / custom_channels)"
MAX_ANSWER = 64 * 1024 * 1024  # the worker's JSON: thousands of records per environment at most


def solve_conda(requests: Sequence[Request], cache_dir: Path, *, timeout: float) -> dict[str, Answer]:
    """An answer per request key (each key solved once); a channel that cannot be read fails
    the whole run, naming the channel."""
    if importlib.util.find_spec("rattler") is None:
        raise SolveError(f"envsync solve needs py-rattler: {INSTALL_HINT}")
    unique = {r.key: r for r in requests}
    jobs = [_job(key, r) for key, r in unique.items()]
    results = _run_worker({"cache_dir": str(cache_dir), "jobs": jobs}, timeout=timeout)
    return {doc["id"]: _answer(unique[doc["id"]], doc) for doc in results}


def _job(key: str, request: Request) -> dict[str, Any]:
    return {
        "id": key,
        "channels": list(request.channels),
        "specs": [_unprefixed(p.text) for p in request.conda],
        "platform": request.platform.subdir,
        "virtual": [list(v) for v in request.platform.virtual],
    }


def _unprefixed(text: str) -> str:
    """`conda-forge::numpy=1.26` → `numpy=1.26`: its channel is among the request's already
    (resolved through the configured alias, which the solver's own channel parsing ignores)."""
    parsed = conda_rules.parse(text)
    return f"{parsed[1]}{' ' if parsed[2][:1].isalnum() else ''}{parsed[2]}" if parsed and parsed[0] else text


def _run_worker(request: dict[str, Any], *, timeout: float) -> list[dict[str, Any]]:
    command = [sys.executable, "-m", "envsync.solve.worker"]
    try:
        done = subprocess.run(
            command, input=json.dumps(request), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise SolveError(
            f"the conda solve took over {timeout:g}s: raise solve.timeout in envsync.yaml"
        ) from None
    if len(done.stdout) > MAX_ANSWER:
        raise SolveError("the conda solver's answer is over 64 MiB")
    try:
        results: list[dict[str, Any]] = json.loads(done.stdout)["results"]
    except (ValueError, KeyError, TypeError):
        last = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise SolveError(f"the conda solver failed: {one_line(last)}") from None
    return results


def _answer(request: Request, doc: dict[str, Any]) -> Answer:
    error = doc.get("error")
    if error is None:
        return Answer(packages=tuple(_package(r) for r in doc["records"]))
    words = one_line(error["message"])
    if error["kind"] == "channel":
        raise SolveError(
            f"{request.path}: {unreachable('conda channel', request.channels, error['message'], FIX)}"
        )
    blamed = mentioned(error["message"], [p.name for p in request.conda])
    return Answer(failure=words, blamed=blamed, manager=Manager.CONDA)


def _package(record: dict[str, Any]) -> Package:
    return Package(
        name=record["name"],
        version=record["version"],
        build=record["build"],
        url=record["url"],
        channel=record["channel"],
        subdir=record["subdir"],
        md5=record["md5"],
        sha256=record["sha256"],
        depends=tuple(record["depends"]),
    )
