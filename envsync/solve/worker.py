"""The conda solve in a child process: `python -m envsync.solve.worker`, JSON in and out.

py-rattler solves on a native runtime whose threads can crash the interpreter while it shuts
down (a segfault in about one exit in ten, measured here with py-rattler 0.28): in a child, the
answer is written before any of that, the child leaves without finalising, and a solve that
outlives its deadline is killed without taking envsync down with it.

Request (stdin): {"cache_dir": str, "jobs": [{"id", "channels": [url], "specs": [str],
"platform": "linux-64", "virtual": [[name, version, build]]}]}. Answer (stdout): {"results":
[{"id", "records": [...]} or {"id", "error": {"kind": "conflict"|"spec"|"channel", "message"}}]}.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any


def main() -> None:
    request = json.loads(sys.stdin.read())
    answer = {"results": asyncio.run(_solve_all(request))}
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()
    os._exit(0)  # see the module's docstring: never finalise the native runtime


async def _solve_all(request: dict[str, Any]) -> list[dict[str, Any]]:
    from rattler import Gateway

    gateway = Gateway(cache_dir=request["cache_dir"])  # one for all: each channel is read once
    return list(await asyncio.gather(*(_solve(gateway, job) for job in request["jobs"])))


async def _solve(gateway: Any, job: dict[str, Any]) -> dict[str, Any]:
    import rattler
    from rattler.exceptions import GatewayError, InvalidMatchSpecError, SolverError

    specs = []
    for text in job["specs"]:
        try:
            specs.append(rattler.MatchSpec(text, strict=False))
        except InvalidMatchSpecError as e:
            return {"id": job["id"], "error": {"kind": "spec", "message": f"{text}: {e}"}}
    try:
        records = await rattler.solve(
            [rattler.Channel(url) for url in job["channels"]],
            specs,
            gateway=gateway,
            platforms=[job["platform"], "noarch"],
            virtual_packages=[_virtual(*v) for v in job["virtual"]],
            channel_relations="disabled",  # exactly the channels the spec names
            add_pip_as_python_dependency=True,  # as conda does (its add_pip_as_python_dependency)
        )
    except SolverError as e:
        return _failed(job, "conflict", e)
    except GatewayError as e:
        return _failed(job, "channel", e)
    return {"id": job["id"], "records": [_record(r) for r in records]}


def _virtual(name: str, version: str, build: str) -> Any:
    from rattler import BuildString, GenericVirtualPackage, PackageName, Version

    return GenericVirtualPackage(PackageName(name), Version(version), BuildString(build))


def _failed(job: dict[str, Any], kind: str, error: Exception) -> dict[str, Any]:
    return {"id": job["id"], "error": {"kind": kind, "message": str(error)}}


def _record(record: Any) -> dict[str, Any]:
    return {
        "name": record.name.normalized,
        "version": str(record.version),
        "build": str(record.build),
        "subdir": record.subdir,
        "url": record.url,
        "channel": record.channel,
        "depends": list(record.depends),
        "md5": record.md5.hex() if record.md5 else None,
        "sha256": record.sha256.hex() if record.sha256 else None,
    }


if __name__ == "__main__":
    main()
