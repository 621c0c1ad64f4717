"""envsync at scale, against the ARM emulator with Azure's real limits.

    python benchmarks/run.py [--quick] [--only SUBSTRING]

Each row starts a fresh emulator in a subprocess (`envsync emulator --latency-ms 50`, with or
without `--arm-throttle`), points an azureml target at it and runs the real CLI in another
subprocess, so the client's wall time, CPU and peak RSS are its own. Request and 429 counts come
from the emulator's /_emulator/stats. Each row is compared with its floor: the time the requests
need at 50 ms each (list pages one after another, the rest `concurrency` at a time), or under
`--arm-throttle` the time ARM's token buckets need to hand out that many tokens, whichever is
longer. `--quick` skips the 10,000-environment rows. Not part of the test suite: timings belong
on a quiet machine, and ratios are what to compare.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import digest as digest_bench  # noqa: E402 - the sibling benchmark's generator and timer

PYTHON = sys.executable
LATENCY = 0.050  # seconds, the emulator's --latency-ms 50
CONCURRENCY = 8  # envsync.yaml's default, used by plan and apply alike
PAGE_SIZE = 100  # the emulator's default list page
BUCKETS = {"reads": (250, 25.0), "writes": (200, 10.0)}  # ARM's defaults (throttle.py)
TOKEN = "benchmark-principal"  # noqa: S105 - the emulator accepts any bearer token
WORKSPACE = ("00000000-0000-0000-0000-00000000bench", "rg-bench", "ws-bench")
RATIO_TARGET, THROTTLE_TARGET, RSS_TARGET_MB = 1.25, 5, 150
MB = 1 << 20


# -- repositories -----------------------------------------------------------------------------------


def env_yaml(i: int, variant: str = "") -> str:
    return (
        f"name: env-{i:05d}\n"
        f"description: benchmark environment {i}{variant}\n"
        "tags:\n  team: bench\n"
        "image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1\n"
        "conda_file:\n  channels: [conda-forge]\n  dependencies:\n"
        f"    - python=3.11\n    - pip\n    - pip:\n        - bench-pkg=={i % 50}.0.{i}\n"
    )


def make_repo(root: Path, count: int) -> Path:
    """A git repo of `count` environments (image + small inline conda), all committed."""
    envs = root / "environments"
    envs.mkdir(parents=True)
    for i in range(1, count + 1):
        (envs / f"env-{i:05d}.yml").write_text(env_yaml(i))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "seed")
    return root


def git(root: Path, *args: str) -> None:
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run(["git", *identity, *args], cwd=root, check=True)


SEED_DB = ".envsync/seed.db"  # a local target's file must be inside the repository


def write_config(root: Path, url: str | None, *, seed: bool = False) -> None:
    sub, rg, ws = WORKSPACE
    lines = ["default_target: emu", f"concurrency: {CONCURRENCY}", "targets:", "  emu:", "    type: azureml"]
    lines += [f"    subscription_id: {sub}", f"    resource_group: {rg}", f"    workspace: {ws}"]
    lines += [f"    endpoint: {url or 'http://127.0.0.1:9'}"]
    if seed:  # the emulator's own file, written by a local apply before it starts
        lines += ["  seed:", "    type: local", f"    path: {SEED_DB}"]
    (root / "envsync.yaml").write_text("\n".join(lines) + "\n")
    commit_config(root)


def commit_config(root: Path) -> None:
    """envsync.yaml feeds the plan, so apply's dirty check covers it: committed, as in real use."""
    git(root, "add", "envsync.yaml")
    git(root, "commit", "-q", "--allow-empty", "-m", "config")


def seeded_db(repo: Path, work: Path) -> Path:
    """A workspace file where every environment of `repo` is applied (by a real local apply)."""
    db = work / f"applied-{repo.name}.db"
    if not db.exists():
        write_config(repo, None, seed=True)
        run_cli(repo, ["apply", "--auto-approve", "-t", "seed"], check=True)
        shutil.move(repo / SEED_DB, db)
    return db


# -- processes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float  # the child's user + system seconds
    rss_mb: float  # the child's peak resident set
    code: int


def run_cli(repo: Path, args: Sequence[str], *, check: bool = False) -> Run:
    """`envsync ARGS` in `repo` as a child process, measured with wait4 (its own rusage)."""
    env = {**os.environ, "ENVSYNC_ARM_TOKEN": TOKEN, "NO_COLOR": "1"}
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [PYTHON, "-m", "envsync", *args], cwd=repo, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if check and proc.returncode != 0:
            out.seek(0)
            tail = out.read()[-2000:].decode(errors="replace")
            raise SystemExit(f"envsync {' '.join(args)} exited {proc.returncode}:\n{tail}")
    rss = usage.ru_maxrss / 1024  # KiB on Linux
    return Run(wall, usage.ru_utime + usage.ru_stime, rss, proc.returncode)


class Emulator:
    """`envsync emulator` in a subprocess; its URL is parsed from the line it prints."""

    def __init__(self, db: Path, *, throttle: bool):
        args = ["emulator", "--db", str(db), "--latency-ms", str(int(LATENCY * 1000))]
        args += ["--arm-throttle"] if throttle else []
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "envsync", *args], stdout=subprocess.PIPE, text=True, env=env
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("Emulator listening on "):
            self.stop()
            raise SystemExit(f"the emulator did not start: {line!r}")
        self.url = line.rsplit(" ", 1)[1]

    def stats(self) -> dict[str, object]:
        with urllib.request.urlopen(self.url + "/_emulator/stats", timeout=10) as got:  # noqa: S310
            doc: dict[str, object] = json.load(got)
            return doc

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@contextmanager
def emulator(work: Path, *, throttle: bool, state: Path | None) -> Iterator[Emulator]:
    """A fresh emulator over a copy of `state` (None: an empty workspace)."""
    db = work / f"emulator-{time.monotonic_ns()}.db"
    if state is not None:
        for suffix in ("", "-wal"):
            if Path(f"{state}{suffix}").exists():
                shutil.copyfile(f"{state}{suffix}", f"{db}{suffix}")
    handle = Emulator(db, throttle=throttle)
    try:
        yield handle
    finally:
        handle.stop()
        for path in work.glob(db.name + "*"):
            path.unlink()


# -- rows ---------------------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    wall: float
    cpu: float = 0.0
    rss_mb: float = 0.0
    requests: int = 0
    reads: int = 0
    writes: int = 0
    throttled: int = 0
    floor: float | None = None
    checks: list[tuple[str, bool]] = field(default_factory=list)
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.wall / self.floor if self.floor else None

    @property
    def verdict(self) -> str:
        if not self.checks:
            return ""
        missed = [label for label, ok in self.checks if not ok]
        return "PASS" if not missed else "MISS " + ", ".join(missed)


def floor_of(stats: dict[str, int], throttled: bool) -> float:
    """The least time these requests can take: list pages one after another and everything else
    `CONCURRENCY` at a time, 50 ms each; under ARM's buckets, no less than their refill needs."""
    pages = stats["pages"]
    network = (pages + math.ceil((stats["requests"] - pages) / CONCURRENCY)) * LATENCY
    if not throttled:
        return network
    tokens = [max(0.0, (stats[op] - size) / refill) for op, (size, refill) in BUCKETS.items()]
    return max(network, *tokens)


def measured(
    name: str,
    repo: Path,
    work: Path,
    args: Sequence[str],
    *,
    throttle: bool,
    state: Path | None,
    budget: Callable[[Row], list[tuple[str, bool]]] = lambda r: [],
) -> Row:
    with emulator(work, throttle=throttle, state=state) as emu:
        write_config(repo, emu.url)
        before = emu.stats()
        result = run_cli(repo, args)
        after = emu.stats()
    stats = _delta(before, after)
    row = Row(name, result.wall, result.cpu, result.rss_mb, stats["requests"], stats["reads"])
    row.writes, row.throttled = stats["writes"], stats["throttled"]
    row.floor = floor_of(stats, throttle)
    if result.code not in (0, 2):
        row.note = f"exit {result.code}"
    elif result.cpu > row.floor:  # the network floor cannot be reached: local work outlasts it
        row.note = f"CPU-bound: {result.cpu:.2f} s of local work"
    ratio = row.ratio or 0.0
    row.checks = [(f"{ratio:.2f}x floor", ratio <= RATIO_TARGET)]
    if throttle:
        row.checks.append((f"{row.throttled} 429s", row.throttled <= THROTTLE_TARGET))
    row.checks += budget(row)
    return row


def _delta(before: dict[str, object], after: dict[str, object]) -> dict[str, int]:
    def count(field_: str, key: str | None = None) -> int:
        a, b = after[field_], before[field_]
        if key is None:
            return int(a) - int(b)  # type: ignore[call-overload]
        return int(a.get(key, 0)) - int(b.get(key, 0))  # type: ignore[attr-defined]

    reads = count("by_method", "GET") + count("by_method", "HEAD")
    writes = sum(count("by_method", m) for m in ("PUT", "POST", "PATCH"))
    throttled = count("throttled")
    return {
        "requests": count("total"),
        "pages": count("by_kind", "containers.list"),
        "reads": reads - throttled,  # refused requests take no token (writes are rarely refused)
        "writes": writes,
        "throttled": throttled,
    }


def rss_budget(count: int) -> Callable[[Row], list[tuple[str, bool]]]:
    if count < 10_000:
        return lambda r: []
    return lambda r: [(f"{r.rss_mb:.0f} MB RSS", r.rss_mb <= RSS_TARGET_MB)]


def plan_rows(count: int, work: Path) -> Iterator[Row]:
    repo = make_repo(work / f"repo-{count}", count)
    applied = seeded_db(repo, work)
    changed_since = "--changed-since" in _help(repo, "plan")
    for throttle in (False, True):
        tag = f"{count:,} envs" + (", throttled" if throttle else "")
        yield measured(
            f"plan, fresh ({tag})",
            repo,
            work,
            ["plan"],
            throttle=throttle,
            state=None,
            budget=rss_budget(count),
        )
        yield measured(
            f"plan --refresh, all applied ({tag})",
            repo,
            work,
            ["plan", "--refresh"],
            throttle=throttle,
            state=applied,
            budget=rss_budget(count),
        )
        if not changed_since:
            yield Row(f"plan --changed-since, 5 changed ({tag})", math.nan, note="n/a (not implemented)")
            continue
        with five_changed(repo):
            yield measured(
                f"plan --changed-since, 5 changed ({tag})",
                repo,
                work,
                ["plan", "--changed-since", "HEAD"],
                throttle=throttle,
                state=applied,
            )


@contextmanager
def five_changed(repo: Path) -> Iterator[None]:
    """Five environment files edited (not committed), restored afterwards."""
    paths = [repo / "environments" / f"env-{i:05d}.yml" for i in (1, 2, 3, 4, 5)]
    for i, path in enumerate(paths, 1):
        path.write_text(env_yaml(i, variant=" (edited)"))
    try:
        yield
    finally:
        for i, path in enumerate(paths, 1):
            path.write_text(env_yaml(i))


def apply_rows(work: Path) -> Iterator[Row]:
    repo = make_repo(work / "repo-apply", 1000)
    for throttle in (False, True):
        tag = "1,000 new versions" + (", throttled" if throttle else "")
        yield measured(
            f"apply --auto-approve ({tag})",
            repo,
            work,
            ["apply", "--auto-approve"],
            throttle=throttle,
            state=None,
        )


def no_change_row(work: Path) -> Row:
    repo = work / "repo-1000"
    applied = seeded_db(repo, work)

    def budget(row: Row) -> list[tuple[str, bool]]:
        return [(f"{row.reads} reads", row.reads <= 20), (f"{row.wall:.2f} s", row.wall < 2.0)]

    return measured(
        "plan, no changes, last-applied (1,000 envs, throttled)",
        repo,
        work,
        ["plan"],
        throttle=True,
        state=applied,
        budget=budget,
    )


def digest_row(work: Path) -> Row:
    root = work / "context"
    digest_bench.generate(root, 1024 * MB, random.Random(0))  # noqa: S311 - a file layout
    from envsync.content.context import context_digests, context_files

    total = sum(f.size for f in context_files(root))
    # Both digests, as loading a spec computes them: envsync's and az ml's object hash.
    seconds = digest_bench.best(lambda: context_digests(root), 3)
    shutil.rmtree(root)
    rate = total / MB / seconds
    return Row(
        "build-context digests (1 GB, best of 3)",
        seconds,
        note=f"{rate:.0f} MB/s",
        checks=[(f"{rate:.0f} MB/s", rate >= 300)],
    )


def startup_rows() -> Iterator[Row]:
    def timed(argv: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start

    bare_times, ours_times = [], []
    for _ in range(10):  # interleaved, so both see the same machine
        bare_times.append(timed([PYTHON, "-c", "pass"]))
        ours_times.append(timed([PYTHON, "-m", "envsync", "--help"]))
    bare, ours = statistics.median(bare_times), statistics.median(ours_times)
    yield Row("python -c pass (median of 10)", bare)
    yield Row(
        "envsync --help (median of 10)",
        ours,
        note=f"{ours / bare:.1f}x python -c pass",
        checks=[(f"{ours:.3f} s", ours < 0.3)],
    )


def _help(repo: Path, command: str) -> str:
    got = subprocess.run(
        [PYTHON, "-m", "envsync", command, "--help"], cwd=repo, capture_output=True, text=True, check=True
    )
    return got.stdout


# -- report -------------------------------------------------------------------------------------------


def render(rows: Sequence[Row]) -> str:
    head = (
        "row",
        "wall s",
        "floor s",
        "×floor",
        "requests",
        "reads",
        "writes",
        "429s",
        "RSS MB",
        "cpu s",
        "result",
    )
    lines = [head]
    for r in rows:
        if r.note.startswith("n/a"):
            lines.append((r.name, r.note, "", "", "", "", "", "", "", "", ""))
            continue
        network = r.floor is not None
        lines.append(
            (
                r.name,
                f"{r.wall:.2f}",
                f"{r.floor:.2f}" if network else "",
                f"{r.ratio:.2f}" if r.ratio else "",
                str(r.requests) if network else "",
                str(r.reads) if network else "",
                str(r.writes) if network else "",
                str(r.throttled) if network else "",
                f"{r.rss_mb:.0f}" if r.rss_mb else "",
                f"{r.cpu:.2f}" if r.cpu else "",
                (r.verdict + (f" ({r.note})" if r.note else "")).strip(),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    out.insert(1, "-|-".join("-" * w for w in widths))
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-environment rows")
    parser.add_argument(
        "--only",
        help="run only the groups whose name contains this (plan, apply, no-change, digest, startup)",
    )
    args = parser.parse_args()
    sizes = (100, 1000) if args.quick else (100, 1000, 10_000)
    started = time.perf_counter()
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, latency {LATENCY * 1000:.0f} ms, concurrency {CONCURRENCY}"
    )
    groups: list[tuple[str, Callable[[Path], Iterator[Row]]]] = [
        ("plan", lambda w: (row for n in sizes for row in plan_rows(n, w))),
        ("no-change", lambda w: iter([no_change_row(w)])),
        ("apply", apply_rows),
        ("digest", lambda w: iter([digest_row(w)])),
        ("startup", lambda w: startup_rows()),
    ]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="envsync-bench-") as tmp:
        work = Path(tmp)
        for name, group in groups:
            if args.only and args.only not in name:
                continue
            if name == "no-change" and not (work / "repo-1000").exists():
                make_repo(work / "repo-1000", 1000)
            for row in group(work):
                rows.append(row)
                print(f"  {row.name}: {row.wall:.2f} s {row.verdict}", file=sys.stderr, flush=True)
    print(render(rows))
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = children.ru_utime + children.ru_stime
    print(f"# total {time.perf_counter() - started:.0f} s (children's CPU {cpu:.0f} s)")


if __name__ == "__main__":
    main()
