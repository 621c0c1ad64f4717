"""envsync side by side with what Azure ML users run today: azure-ai-ml 1.35.2 in a loop.

    python benchmarks/peer.py [--rounds 3] [--only SUBSTRING] [--baseline DIR] [--skip-10k]

Every sample starts a fresh `envsync emulator --latency-ms 50` (with `--arm-throttle` in the
throttled rows) over a copy of the row's workspace, then runs one side in a child process:
envsync's CLI, or `sdk_loop.py` in its own virtualenv (`benchmarks/.sdk-venv`, made on first use
with azure-ai-ml 1.35.2): `load_environment` + `create_or_update` per YAML for an apply,
`get(label="latest")` per YAML for what a dry run can ask. Both sides' times are the child's
wall time, start-up included (what a CI step costs), and the sides alternate, so both see the
same machine. A row's figure is the median of `--rounds` samples; its ratio is the SDK's time
over envsync's (above 1: envsync is faster). Requests are the emulator's counts.

`--baseline DIR` adds a column for another envsync source tree (say a worktree of the commit
before a change), run with the same Python: the "cold no slower than today" check.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import run as bench  # noqa: E402 - the sibling benchmark's repositories and emulator

HERE = Path(__file__).parent
SDK_VENV = HERE / ".sdk-venv"
SDK_REQUIREMENT = "azure-ai-ml==1.35.2"
COUNT = 500  # environments in the apply and no-change rows (the figures)


# -- the two sides ------------------------------------------------------------------------------


@dataclass
class Sample:
    wall: float
    requests: int = 0
    writes: int = 0
    throttled: int = 0
    note: str = ""


def sdk_python() -> Path:
    """The SDK's virtualenv, made (and azure-ai-ml installed) on first use."""
    python = SDK_VENV / "bin" / "python"
    probe = [str(python), "-c", "import azure.ai.ml, sys; sys.exit(azure.ai.ml.__version__ != '1.35.2')"]
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return python
    print(f"# making {SDK_VENV} with {SDK_REQUIREMENT} (once)", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(SDK_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", SDK_REQUIREMENT], check=True)
    return python


def timed(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, done.returncode, done.stdout + done.stderr


def envsync_side(
    repo: Path, args: Sequence[str], *, source: Path | None = None, cold: bool = False
) -> Callable[[str], tuple[float, str]]:
    """Run `envsync ARGS` in `repo` (from `source` instead of the installed package)."""

    def side(url: str) -> tuple[float, str]:
        write_config(repo)
        if cold:
            shutil.rmtree(repo / ".envsync", ignore_errors=True)
        # The endpoint comes from the environment: a config that changed with every emulator's
        # port would be validated afresh each run, which no real repository sees.
        env = {**os.environ, "ENVSYNC_ARM_TOKEN": bench.TOKEN, "ENVSYNC_ARM_ENDPOINT": url, "NO_COLOR": "1"}
        if source is not None:
            env["PYTHONPATH"] = str(source)
        wall, code, out = timed([bench.PYTHON, "-m", "envsync", *args], repo, env)
        if code not in (0, 2):
            raise SystemExit(f"envsync {' '.join(args)} exited {code}:\n{out[-2000:]}")
        return wall, out

    return side


def write_config(repo: Path) -> None:
    sub, rg, ws = bench.WORKSPACE
    lines = ["default_target: emu", f"concurrency: {bench.CONCURRENCY}", "targets:", "  emu:"]
    lines += ["    type: azureml", f"    subscription_id: {sub}", f"    resource_group: {rg}"]
    (repo / "envsync.yaml").write_text("\n".join([*lines, f"    workspace: {ws}"]) + "\n")
    bench.commit_config(repo)


def warm(repo: Path) -> None:
    """Load every YAML once, so the validation cache holds them (a CI job restoring .envsync/)."""
    envsync_side(repo, ["validate"])("http://127.0.0.1:9")


def sdk_side(mode: str, threads: int, paths: Sequence[Path]) -> Callable[[str], tuple[float, str]]:
    python = sdk_python()

    def side(url: str) -> tuple[float, str]:
        sub, rg, ws = bench.WORKSPACE
        argv = [str(python), str(HERE / "sdk_loop.py"), url, sub, rg, ws, mode, str(threads)]
        wall, code, out = timed([*argv, *map(str, paths)], HERE, dict(os.environ))
        if code != 0:
            raise SystemExit(f"sdk_loop.py exited {code}:\n{out[-2000:]}")
        return wall, out

    return side


def sampled(
    side: Callable[[str], tuple[float, str]], work: Path, *, state: Path | None, throttle: bool
) -> Sample:
    with bench.emulator(work, throttle=throttle, state=state) as emu:
        before = emu.stats()
        wall, out = side(emu.url)
        after = emu.stats()
    counts = bench._delta(before, after)
    return Sample(wall, counts["requests"], counts["writes"], counts["throttled"], _note(out))


def _note(out: str) -> str:
    """What a side's output says beyond its time: SDK failures, envsync's deferred records."""
    line = out.strip().splitlines()[-1] if out.strip() else ""
    if line.startswith("{"):  # sdk_loop.py's summary
        summary = json.loads(line)
        failed = summary["failed"]
        text = f"loop {summary['seconds']:.2f} s, {sum(failed.values())} failed"
        return text + (f" ({next(iter(failed))})" if failed else "")
    found = re.search(r"(\d+) last-applied record\(s\) deferred", out)
    return f"{found.group(1)} records deferred" if found else ""


# -- rows ---------------------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    ours: list[Sample] = field(default_factory=list)
    theirs: list[Sample] = field(default_factory=list)
    baseline: list[Sample] = field(default_factory=list)
    target: str = ""

    @staticmethod
    def median(samples: Sequence[Sample]) -> Sample | None:
        if not samples:
            return None
        wall = statistics.median(s.wall for s in samples)
        middle = min(samples, key=lambda s: abs(s.wall - wall))
        return Sample(wall, middle.requests, middle.writes, middle.throttled, middle.note)

    def ratio(self) -> float | None:
        ours, theirs = self.median(self.ours), self.median(self.theirs or self.baseline)
        return theirs.wall / ours.wall if ours and theirs else None


def compare(
    row: Row,
    work: Path,
    rounds: int,
    *,
    ours: Callable[[str], tuple[float, str]],
    theirs: Callable[[str], tuple[float, str]] | None = None,
    baseline: Callable[[str], tuple[float, str]] | None = None,
    state: Path | None = None,
    throttle: bool = False,
) -> Row:
    """`rounds` samples of each side, alternating."""
    for _ in range(rounds):
        row.ours.append(sampled(ours, work, state=state, throttle=throttle))
        if theirs is not None:
            row.theirs.append(sampled(theirs, work, state=state, throttle=throttle))
        if baseline is not None:
            row.baseline.append(sampled(baseline, work, state=state, throttle=throttle))
    return row


@contextmanager
def five_changed(repo: Path) -> Iterator[list[Path]]:
    with bench.five_changed(repo):
        yield [repo / "environments" / f"env-{i:05d}.yml" for i in (1, 2, 3, 4, 5)]


def yamls(repo: Path) -> list[Path]:
    return sorted((repo / "environments").glob("*.yml"))


def apply_rows(work: Path, rounds: int) -> Iterator[Row]:
    repo = bench.make_repo(work / f"repo-{COUNT}", COUNT)
    files = yamls(repo)
    state = bench.seeded_db(repo, work)  # every environment applied (and records written)
    warm(repo)
    yield compare(
        Row(f"no-change plan ({COUNT} envs) vs SDK get loop"),
        work,
        rounds,
        ours=envsync_side(repo, ["plan"]),
        theirs=sdk_side("get", 1, files),
        state=state,
    )
    apply = envsync_side(repo, ["apply", "--auto-approve"])
    for throttle in (False, True):
        tag = ", ARM buckets on" if throttle else ""
        target = ">= 1.5x, 0 failed" if throttle else ">= 3x"
        sequential = compare(
            Row(f"apply {COUNT} new{tag} vs SDK loop", target=target),
            work,
            rounds,
            ours=apply,
            theirs=sdk_side("apply", 1, files),
            throttle=throttle,
        )
        yield sequential
        # Against 8 threads: the same envsync samples, the SDK sampled in the same run.
        threaded = Row(f"apply {COUNT} new{tag} vs SDK 8 threads", ours=sequential.ours)
        threaded.target = "" if throttle else ">= 1x"
        threaded.theirs = [
            sampled(sdk_side("apply", 8, files), work, state=None, throttle=throttle) for _ in range(rounds)
        ]
        yield threaded


def changed_since_rows(work: Path, rounds: int, sizes: Sequence[int], baseline: Path | None) -> Iterator[Row]:
    for count in sizes:
        repo = work / f"repo-{count}"
        if not repo.exists():
            bench.make_repo(repo, count)
        state = bench.seeded_db(repo, work)
        big = count >= 10_000  # the targets are for 10,000
        warm_target, cold_target = ("<= 0.5 s", "no slower than before") if big else ("", "")
        old = (lambda args, repo=repo: envsync_side(repo, args, source=baseline)) if baseline else None
        with five_changed(repo) as changed:
            args = ["plan", "--changed-since", "HEAD"]
            warm(repo)
            yield compare(
                Row(f"--changed-since, 5 of {count:,} (warm cache) vs SDK get x5", target=warm_target),
                work,
                rounds,
                ours=envsync_side(repo, args),
                theirs=sdk_side("get", 1, changed),
                baseline=old(args) if old else None,
                state=state,
            )
            yield compare(
                Row(f"--changed-since, 5 of {count:,} (cold cache)", target=cold_target),
                work,
                rounds,
                ours=envsync_side(repo, args, cold=True),
                baseline=old(args) if old else None,
                state=state,
            )
        warm(repo)
        for cold in (False, True):
            yield compare(
                Row(
                    f"plan, fresh ({count:,} envs, {'cold' if cold else 'warm'} cache)",
                    target=("no slower than before" if cold else "<= 1.0 s") if big else "",
                ),
                work,
                rounds,
                ours=envsync_side(repo, ["plan"], cold=cold),
                baseline=old(["plan"]) if old else None,
                state=None,
            )


# -- report -------------------------------------------------------------------------------------------


def render(rows: Sequence[Row]) -> str:
    head = ("row", "envsync s", "requests", "peer s", "requests", "ratio", "target", "notes")
    lines = [head]
    for r in rows:
        ours, theirs, base = Row.median(r.ours), Row.median(r.theirs), Row.median(r.baseline)
        peer = theirs or base
        ratio = r.ratio()
        notes = "; ".join(
            n for n in (ours.note if ours else "", f"peer: {peer.note}" if peer and peer.note else "") if n
        )
        if base is not None and theirs is not None:
            notes = "; ".join(x for x in (notes, f"before: {base.wall:.2f} s") if x)
        if peer is base and base is not None:
            notes = "; ".join(x for x in ("peer = envsync before", notes) if x)
        lines.append(
            (
                r.name,
                f"{ours.wall:.2f}" if ours else "",
                str(ours.requests) if ours else "",
                f"{peer.wall:.2f}" if peer else "",
                str(peer.requests) if peer else "",
                f"{ratio:.2f}x" if ratio else "",
                r.target,
                notes,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    out.insert(1, "-|-".join("-" * w for w in widths))
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="samples per side and row (median)")
    parser.add_argument("--only", help="run only the groups whose name contains this (apply, changed)")
    parser.add_argument("--baseline", type=Path, help="another envsync source tree, for a 'before' column")
    parser.add_argument("--skip-10k", action="store_true", help="the 10,000-environment rows at 1,000 only")
    parser.add_argument("--count", type=int, default=500, help="environments in the apply rows")
    args = parser.parse_args()
    global COUNT
    COUNT = args.count
    started = time.perf_counter()
    load = os.getloadavg()
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores (load {load[0]:.1f}), "
        f"Python {platform.python_version()}, latency {bench.LATENCY * 1000:.0f} ms, "
        f"{args.rounds} rounds, medians"
    )
    sizes = (1000,) if args.skip_10k else (1000, 10_000)
    groups: list[tuple[str, Callable[[Path], Iterator[Row]]]] = [
        ("apply", lambda w: apply_rows(w, args.rounds)),
        ("changed", lambda w: changed_since_rows(w, args.rounds, sizes, args.baseline)),
    ]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="envsync-peer-") as tmp:
        for name, group in groups:
            if args.only and args.only not in name:
                continue
            for row in group(Path(tmp)):
                rows.append(row)
                ratio = row.ratio()
                shown = f"{ratio:.2f}x" if ratio else ""
                print(f"  {row.name}: {shown}", file=sys.stderr, flush=True)
    print(render(rows))
    print(f"# total {time.perf_counter() - started:.0f} s; load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
