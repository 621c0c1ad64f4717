"""envsync solve on the examples, cold and warm, against a local channel and a local index.

    python benchmarks/solve.py [--rounds 5] [--envs 40] [--filler 5000]

The examples in environments/ name conda-forge and PyPI; here `solve.conda.custom_channels`
maps conda-forge to a channel made in a temporary folder (python 3.10-3.12, pip, and
`--filler` other records so its repodata weighs what a small channel does), and `solve.pip`
points at pypiserver on 127.0.0.1 serving wheels for every requirement the examples pin (their
dependencies at a few versions each). Rows, each the median of `--rounds` child-process runs of
the real CLI (start-up included):

  cold            no .envsync/solve/: repodata read, conda solved, pip resolved (uv's cache empty)
  update          --update: every environment solved again, channel and uv caches warm
  warm            the answers remembered: nothing is solved
  plan, rule off  `envsync plan` (local target) without the solvable rule
  plan, rule on   the same with `solvable: error`, answers remembered

and the same cold/warm pair for `--envs` generated environments with distinct pins (one
worker process solves all of them, the pip sections four at a time). Not part of the test
suite: timings belong on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.solve.packages import write_channel, write_wheel  # noqa: E402

ENVSYNC = [sys.executable, "-m", "envsync"]
# Each pip requirement of the examples, with what it requires (versions of those: 3 each).
WHEELS = {
    ("lightgbm", "4.3.0"): ("numpy>=1.17", "scipy"),
    ("mlflow", "2.14.1"): ("flask<4", "pandas<3", "numpy<2", "sqlalchemy>=1.4,<3", "packaging<25"),
    ("scikit-learn", "1.5.0"): ("numpy>=1.19.5", "scipy>=1.6", "joblib>=1.2", "threadpoolctl>=3.1"),
    ("pandas", "2.2.2"): ("numpy>=1.23.2", "python-dateutil>=2.8.2", "pytz>=2020.1", "tzdata>=2022.7"),
}
LEAVES = {
    "numpy": ("1.26.2", "1.26.3", "1.26.4"),
    "scipy": ("1.12.0", "1.13.0", "1.13.1"),
    "flask": ("3.0.1", "3.0.2", "3.0.3"),
    "sqlalchemy": ("2.0.29", "2.0.30", "2.0.31"),
    "packaging": ("23.2", "24.0", "24.1"),
    "joblib": ("1.3.2", "1.4.0", "1.4.2"),
    "threadpoolctl": ("3.3.0", "3.4.0", "3.5.0"),
    "python-dateutil": ("2.8.2", "2.9.0"),
    "pytz": ("2024.1", "2024.2"),
    "tzdata": ("2024.1", "2024.2"),
}


def channel_records(filler: int) -> tuple[tuple[str, str, str, str, list[str]], ...]:
    pythons = [("linux-64", "python", f"3.{m}.{p}", f"h{p}_0", []) for m in (10, 11, 12) for p in range(1, 6)]
    others = [
        ("linux-64", f"lib{i // 10}", f"1.{i % 10}.0", "h0_0", ["python >=3.10"] if i % 3 == 0 else [])
        for i in range(filler)
    ]
    return (*pythons, ("noarch", "pip", "24.0", "pyhd8ed1ab_0", ["python >=3.8"]), *others)


def write_index(folder: Path) -> None:
    for (name, version), requires in WHEELS.items():
        write_wheel(folder, name.replace("-", "_"), version, requires)
    for name, versions in LEAVES.items():
        for version in versions:
            write_wheel(folder, name.replace("-", "_"), version)


def start_index(folder: Path, port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "pypiserver",
        "run",
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-a",
        ".",
        "-P",
        ".",
    ]
    server = subprocess.Popen([*command, str(folder)], stderr=subprocess.DEVNULL)
    import requests

    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/simple/", timeout=2).status_code == 200:
                return server
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("pypiserver did not start")


def make_repo(work: Path, channels: Path, index: str, envs: int) -> Path:
    repo = work / "repo"
    shutil.copytree(ROOT / "environments", repo / "environments")
    for i in range(envs):
        numpy = LEAVES["numpy"][i % 3]
        (repo / "environments" / f"gen-{i}.yml").write_text(
            f"name: gen-{i}\nimage: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1\n"
            f"conda_file:\n  channels: [conda-forge]\n  dependencies:\n    - python=3.{10 + i % 3}\n"
            f"    - pip\n    - pip:\n        - scikit-learn==1.5.0\n        - numpy=={numpy}\n"
            f"        - joblib=={LEAVES['joblib'][i // 3 % 3]}\n"
        )
    config = (
        f"solve:\n  conda:\n    custom_channels: {{conda-forge: {channels.as_uri()}}}\n"
        f"  pip:\n    index_url: {index}\n"
    )
    (repo / "envsync.yaml").write_text(config)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def timed(repo: Path, args: list[str], before: Callable[[], None], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        before()
        start = time.perf_counter()
        done = subprocess.run([*ENVSYNC, "-C", str(repo), *args], capture_output=True, text=True)
        samples.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"envsync {' '.join(args)} failed: {done.stderr or done.stdout}")
    return statistics.median(samples)


def rows(repo: Path, rounds: int, envs: int) -> list[tuple[str, float]]:
    solve = repo / ".envsync" / "solve"
    examples = [str(repo / "environments" / n) for n in ("lightgbm-cpu.yml", "sklearn-cpu.yml")]

    def cold() -> None:
        shutil.rmtree(solve, ignore_errors=True)

    def nothing() -> None:
        pass

    def rule(on: bool) -> Callable[[], None]:
        def write() -> None:
            text = (repo / "envsync.yaml").read_text().split("policy:")[0]
            (repo / "envsync.yaml").write_text(text + ("policy:\n  rules: {solvable: error}\n" if on else ""))

        return write

    found = [
        ("cold: the 2 examples with a conda spec", timed(repo, ["solve", *examples], cold, rounds)),
        (
            "update: the 2 examples again (caches warm)",
            timed(repo, ["solve", "--update", *examples], nothing, rounds),
        ),
        ("warm: the 2 examples, remembered", timed(repo, ["solve", *examples], nothing, rounds)),
        (f"cold: {envs} generated + the examples", timed(repo, ["solve"], cold, rounds)),
        (f"warm: {envs} generated + the examples", timed(repo, ["solve"], nothing, rounds)),
    ]
    off, on = [], []
    for _ in range(rounds):  # alternating, so the machine's noise hits both alike
        off.append(timed(repo, ["plan"], rule(False), 1))
        on.append(timed(repo, ["plan"], rule(True), 1))
    rule(False)()
    found.append((f"plan, solvable off ({envs + 5} environments)", statistics.median(off)))
    found.append((f"plan, solvable: error, remembered ({envs + 5})", statistics.median(on)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--envs", type=int, default=40)
    parser.add_argument("--filler", type=int, default=5000, help="extra records in the channel")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="envsync-solve-bench-") as temp:
        work = Path(temp)
        channels = work / "channels"
        write_channel(channels / "conda-forge", channel_records(args.filler))
        (work / "wheels").mkdir()
        write_index(work / "wheels")
        port = 18000 + os.getpid() % 1000
        server = start_index(work / "wheels", port)
        try:
            repo = make_repo(work, channels, f"http://127.0.0.1:{port}/simple/", args.envs)
            found = rows(repo, args.rounds, args.envs)
        finally:
            server.terminate()
            server.wait(timeout=10)
    width = max(len(name) for name, _ in found)
    print(f"{'row':<{width}} | median s ({args.rounds} rounds)")
    for name, seconds in found:
        print(f"{name:<{width}} | {seconds:.2f}")


if __name__ == "__main__":
    main()
