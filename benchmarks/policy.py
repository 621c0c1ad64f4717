"""What policy checks add to `envsync validate`, side by side in one run.

    python benchmarks/policy.py [--envs 1000] [--rounds 11]

Generates three repositories of `--envs` environments each (nine in ten an image plus an inline
conda spec with six pip pins, one in ten a build context whose Dockerfile takes its base image
from ARGs; versions vary, so no cache sees the same pin twice):

  default    no envsync.yaml: envsync's default policy; no environment breaks a rule
  strict     an envsync.yaml with every rule on (most as errors, every parameter set; a prod
             target tightens it, which validate, checking the top level, does not evaluate);
             every environment has a finding (image-digest-required is a warning there)
  findings   the default policy, and every environment breaks one to four rules

and runs `envsync validate` on each, as a child process, two ways: `on`, the real CLI, and
`off`, the same CLI with policy evaluation removed (`evaluate_all` returns nothing; loading,
validation, the config and the reference scan are the same code), both with the validation
cache off (ENVSYNC_NO_CACHE): a cached run does no checking at all. Rounds alternate all the runs
so machine noise hits them alike; medians of wall and CPU time (user + system, from wait4)
are compared, on over off, per repository. A third run per round, `timed`, is `on` timing the
policy work inside itself (evaluation while loading, gathering the findings), which machine
noise does not blur. The target is under 1.10x at 1,000 environments.
Not part of the test suite: timings belong on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PYTHON = sys.executable
IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1"
TARGET = 1.10
# The `off` variant: the CLI, with the one function that runs the rules replaced.
OFF = (
    "import sys; import envsync.spec.document as d; "
    "d.evaluate_all = lambda subject, policies: {}; "
    "from envsync.cli import main; sys.argv = ['envsync'] + sys.argv[1:]; main()"
)
# The `on` variant, timing itself: CPU seconds spent evaluating policies (while the YAMLs load)
# and gathering and sorting their findings, written to the file ENVSYNC_BENCH_OUT names.
TIMED = (
    "import os, sys, time; import envsync.spec.document as d, envsync.spec.load as l; spent = [0.0]\n"
    "def timed(f):\n"
    "    def run(*a):\n"
    "        t = time.process_time(); r = f(*a); spent[0] += time.process_time() - t; return r\n"
    "    return run\n"
    "d.evaluate_all = timed(d.evaluate_all); l.LoadResult.with_policy = timed(l.LoadResult.with_policy)\n"
    "import atexit; out = os.environ['ENVSYNC_BENCH_OUT']\n"
    "atexit.register(lambda: open(out, 'w').write(str(spent[0])))\n"
    "from envsync.cli import main; sys.argv = ['envsync'] + sys.argv[1:]; main()"
)
STRICT = """\
policy:
  rules:
    image-digest-required: warning
    pip-unpinned: error
    pip-url-unpinned: error
    pip-index-option: error
    conda-unpinned: error
    python-version-required: error
    tag-required: error
    description-required: warning
    reference-latest: warning
  images: {allowed_registries: [mcr.microsoft.com, "*.azurecr.io"], mutable_tags: [stable, edge]}
  conda: {denied_channels: [defaults], allow_unpinned: [pip]}
  tags: {required: {team: "[a-z-]+"}}
  names: {pattern: "[a-z][a-z0-9-]*"}
  context: {max_size_mb: 50, max_files: 1000}
targets:
  prod:
    type: local
    policy:
      rules: {image-mutable-tag: error, image-digest-required: error}
      images: {allowed_registries: ["mcr.microsoft.com/azureml/*"]}
"""


def conda_env(i: int, bad: bool) -> str:
    pins = "".join(f"        - pkg{k}-{i % 97}=={k}.{i % 13}.{i}\n" for k in range(6))
    extra = "        - requests\n        - --extra-index-url https://pypi.example.com/simple\n" if bad else ""
    image = "python:latest" if bad else IMAGE
    return (
        f"name: env-{i:05d}\ndescription: benchmark environment {i}\ntags:\n  team: bench\n"
        f"image: {image}\nconda_file:\n  channels: [conda-forge, nodefaults]\n  dependencies:\n"
        f"    - python=3.11\n    - numpy{'' if bad else '=1.26'}\n    - pip\n    - pip:\n{pins}{extra}"
    )


def build_env(root: Path, i: int, bad: bool) -> str:
    context = root / "environments" / f"ctx-{i:05d}"
    context.mkdir(parents=True)
    base = "python" if bad else IMAGE.rsplit(":", 1)[0]
    tag = "latest" if bad else IMAGE.rsplit(":", 1)[1]
    (context / "Dockerfile").write_text(
        f"ARG BASE={base}\nARG TAG={tag}\nFROM ${{BASE}}:${{TAG}} AS build\nRUN echo {i}\n"
        "FROM build\nCOPY requirements.txt /tmp/\nRUN pip install -r /tmp/requirements.txt\n"
    )
    (context / "requirements.txt").write_text(f"numpy==1.26.{i % 5}\n")
    return f"name: env-{i:05d}\ndescription: built {i}\ntags:\n  team: bench\nbuild:\n  path: ctx-{i:05d}\n"


def make_repo(root: Path, count: int, *, bad: bool) -> Path:
    envs = root / "environments"
    envs.mkdir(parents=True)
    for i in range(count):
        text = build_env(root, i, bad) if i % 10 == 9 else conda_env(i, bad)
        (envs / f"env-{i:05d}.yml").write_text(text)
    return root


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    code: int
    policy: float = 0.0  # `timed` runs: CPU seconds inside policy evaluation


def run(repo: Path, argv: list[str]) -> Run:
    # The validation cache would answer every run after the first: measure the checking itself.
    out = repo.parent / "policy-seconds"
    env = {**os.environ, "NO_COLOR": "1", "GITHUB_ACTIONS": "", "ENVSYNC_NO_CACHE": "1"}
    env["ENVSYNC_BENCH_OUT"] = str(out)
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    proc = subprocess.Popen([PYTHON, *argv], cwd=repo, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall, cpu = time.perf_counter() - start, usage.ru_utime + usage.ru_stime
    policy = float(out.read_text()) if out.exists() else 0.0
    return Run(wall, cpu, os.waitstatus_to_exitcode(status), policy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--envs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="envsync-policy-bench-") as tmp:
        repos = {
            "default": make_repo(Path(tmp) / "default", args.envs, bad=False),
            "strict (every rule on)": make_repo(Path(tmp) / "strict", args.envs, bad=False),
            "findings (every env)": make_repo(Path(tmp) / "findings", args.envs, bad=True),
        }
        (repos["strict (every rule on)"] / "envsync.yaml").write_text(STRICT)
        ways = {
            "off": ["-c", OFF, "validate"],
            "on": ["-m", "envsync", "validate"],
            "timed": ["-c", TIMED, "validate"],
        }
        for repo in repos.values():
            for argv in ways.values():
                run(repo, argv)  # warm the page cache and .pyc files
        runs: dict[tuple[str, str], list[Run]] = {(r, w): [] for r in repos for w in ways}
        for _ in range(args.rounds):
            for name, repo in repos.items():
                for way, argv in ways.items():
                    runs[(name, way)].append(run(repo, argv))
    report(runs, args.envs, args.rounds)


def report(runs: dict[tuple[str, str], list[Run]], envs: int, rounds: int) -> None:
    print(f"envsync validate, {envs:,} environments, median of {rounds} alternating rounds")
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}\n")
    head = ("repository", "off wall", "on wall", "×", "off cpu", "on cpu", "×", "in policy", "share", "exit")
    print("{:<22} | {:>8} | {:>8} | {:>5} | {:>8} | {:>8} | {:>5} | {:>9} | {:>5} | {}".format(*head))
    print("-" * 108)
    for name in dict.fromkeys(r for r, _ in runs):
        off, on, timed = (runs[(name, way)] for way in ("off", "on", "timed"))
        walls = [statistics.median(r.wall for r in got) for got in (off, on)]
        cpus = [statistics.median(r.cpu for r in got) for got in (off, on)]
        inside = statistics.median(r.policy for r in timed)
        share = statistics.median(r.policy / (r.cpu - r.policy) for r in timed)
        codes = ",".join(sorted({str(r.code) for r in on}))
        print(
            f"{name:<22} | {walls[0]:8.3f} | {walls[1]:8.3f} | {walls[1] / walls[0]:5.3f} | "
            f"{cpus[0]:8.3f} | {cpus[1]:8.3f} | {cpus[1] / cpus[0]:5.3f} | {inside:9.3f} | "
            f"{share:5.1%} | {codes}"
        )
    print(
        f"\ntarget: on under {TARGET:.2f}x off. 'in policy': CPU seconds inside policy evaluation and "
        "gathering\n(timed in the process itself); 'share': that over the rest of the run's CPU time."
    )


if __name__ == "__main__":
    main()
