"""Applying new versions to an Azure ML registry whose writes are long-running operations.

    python benchmarks/registry.py [--versions 100] [--seconds 2] [--concurrency 8] [--latency-ms 0 50]

Each row starts a fresh `envsync emulator --operation-seconds S` in a subprocess (every create
stays InProgress S seconds, and says so in Retry-After), points a `registry` target at it, and
times the real `envsync apply --auto-approve` in another subprocess. **Floor**: the operations
`concurrency` at a time, ceil(versions / concurrency) rounds of S seconds, each round also
paying the requests one change makes one after another (PUT, poll, the final read, the
last-applied record) at the emulator's latency. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import run as bench  # noqa: E402 - the sibling benchmark's repo, process and emulator helpers

REGISTRY = ("00000000-0000-0000-0000-00000000bench", "rg-bench", "reg-bench")
RATIO_TARGET = 1.25


def registry_config(root: Path, url: str, concurrency: int) -> None:
    sub, rg, name = REGISTRY
    (root / "envsync.yaml").write_text(
        f"default_target: reg\nconcurrency: {concurrency}\ntargets:\n"
        f"  reg: {{type: registry, subscription_id: {sub}, resource_group: {rg}, registry: {name},"
        f" endpoint: '{url}'}}\n"
    )
    bench.commit_config(root)


class OperationsEmulator(bench.Emulator):
    """`envsync emulator --operation-seconds S --latency-ms L` in a subprocess."""

    def __init__(self, db: Path, *, seconds: float, latency_ms: int):
        args = ["emulator", "--db", str(db), "--latency-ms", str(latency_ms)]
        args += ["--operation-seconds", str(seconds)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [bench.PYTHON, "-m", "envsync", *args], stdout=subprocess.PIPE, text=True, env=env
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("Emulator listening on "):
            self.stop()
            raise SystemExit(f"the emulator did not start: {line!r}")
        self.url = line.rsplit(" ", 1)[1]


def row(versions: int, seconds: float, concurrency: int, latency_ms: int, work: Path) -> dict[str, object]:
    repo = bench.make_repo(work / f"repo-{latency_ms}", versions)
    emulator = OperationsEmulator(work / f"emulator-{latency_ms}.db", seconds=seconds, latency_ms=latency_ms)
    try:
        registry_config(repo, emulator.url, concurrency)
        bench.git(repo, "add", "-A")
        bench.git(repo, "commit", "-q", "-m", "target")
        before = emulator.stats()
        result = bench.run_cli(repo, ["apply", "--auto-approve"])
        after = emulator.stats()
    finally:
        emulator.stop()
    kinds = {k: int(after["by_kind"].get(k, 0)) - int(before["by_kind"].get(k, 0)) for k in after["by_kind"]}  # type: ignore[attr-defined]
    total = int(after["total"]) - int(before["total"])  # type: ignore[call-overload]
    creates = kinds.get("registry.versions.put", 0)
    pages = kinds.get("registry.containers.list", 0)
    # Requests one change waits for in turn: all but the plan's listing, spread over the changes.
    chain = (total - pages) / max(1, versions)
    rounds = math.ceil(versions / concurrency)
    floor = rounds * (seconds + chain * latency_ms / 1000) + pages * latency_ms / 1000
    return {
        "name": f"apply {versions} new versions, {seconds:g} s operations, {latency_ms} ms latency",
        "wall": result.wall,
        "floor": floor,
        "ratio": result.wall / floor,
        "requests": total,
        "creates": creates,
        "polls": kinds.get("operations.get", 0),
        "per_change": chain,
        "code": result.code,
        "cpu": result.cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 50])
    args = parser.parse_args()
    print(f"{platform.node()}: Python {platform.python_version()}, concurrency {args.concurrency}")
    header = "row | wall s | floor s | ×floor | requests | creates | polls | requests/change | cpu s | result"
    print(header)
    print("-" * len(header))
    failed = False
    with tempfile.TemporaryDirectory(prefix="envsync-registry-bench-") as tmp:
        for latency in args.latency_ms:
            found = row(args.versions, args.seconds, args.concurrency, latency, Path(tmp))
            ok = found["code"] == 0 and found["ratio"] <= RATIO_TARGET and found["creates"] == args.versions  # type: ignore[operator]
            failed |= not ok
            verdict = "PASS" if ok else f"MISS (exit {found['code']}, {found['creates']} creates)"
            print(
                f"{found['name']} | {found['wall']:.2f} | {found['floor']:.2f} | {found['ratio']:.2f} | "
                f"{found['requests']} | {found['creates']} | {found['polls']} | {found['per_change']:.1f} | "
                f"{found['cpu']:.2f} | {verdict}"
            )
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
