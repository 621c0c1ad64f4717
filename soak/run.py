"""The soak suite: envsync's crash safety and secrecy, at length, on demand.

    python soak/run.py [faults] [kill] [race] [secrets] [--seed S] [--seeds N] [--quick]

Each scenario runs the real CLI in child processes against an ARM emulator served from this
process, prints its figures, and fails (exit 1) on any duplicate version, unconverged
workspace, traceback, hang, leaked credential or apply that should have succeeded:

- faults: per seed, a fresh emulator injecting 5xx, connection resets and 429s, and `--applies`
  applies (one request at a time) with repository edits in between; after each, faults off,
  `plan --refresh` must say "No changes." and `drift` must be clean. The emulator's draws are
  keyed by the seed and each request's order of arrival, so `--seed S --seeds 1` replays seed S.
- kill: SIGKILL right after each request of a 10-environment apply (the emulator holds request
  N until the process is dead), then apply again: the workspace must converge.
- race: `--racers` applies of one repository at once, `--rounds` times, edits in between.
- secrets: every command against an emulator that echoes the request's token, SAS and body
  back in its errors, with account keys, a SAS in a build context URL and a password in the
  ARM endpoint; no output may show any of them.

Not part of the test suite (like benchmarks/): it takes tens of minutes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import kills  # noqa: E402 - the sibling modules, found through the path above
import scenarios  # noqa: E402
from harness import Tally  # noqa: E402

SCENARIOS = ("faults", "kill", "race", "secrets")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    chosen = args.scenarios or list(SCENARIOS)
    runs: dict[str, Callable[[Path], Tally]] = {
        "faults": lambda tmp: scenarios.faults(
            tmp,
            range(args.seed, args.seed + args.seeds),
            args.applies,
            args.envs,
            args.fault_rate,
            args.throttle_rate,
        ),
        "kill": lambda tmp: kills.kills(tmp, args.envs),
        "race": lambda tmp: scenarios.race(tmp, args.seed, args.rounds, args.racers, args.envs),
        "secrets": lambda tmp: scenarios.secrets(tmp, args.seed),
    }
    print(f"envsync soak: {', '.join(chosen)} (seed {args.seed})", flush=True)
    failed = False
    for name in chosen:
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"envsync-soak-{name}-") as tmp:
            tally = runs[name](Path(tmp))
        verdict = "FAIL" if tally.failed else "ok"
        print(f"{name:8} {verdict:4} {time.monotonic() - start:6.0f} s  {tally.figures()}", flush=True)
        for failure in tally.failures:
            print(f"  - {failure}", flush=True)
        failed = failed or tally.failed
    return 1 if failed else 0


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", help=f"of {', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--seed", type=int, default=1, help="first seed (default 1)")
    parser.add_argument("--seeds", type=int, default=20, help="fault seeds (default 20)")
    parser.add_argument("--applies", type=int, default=3, help="applies per fault seed (default 3)")
    parser.add_argument("--envs", type=int, default=10, help="environments (default 10)")
    parser.add_argument("--fault-rate", type=float, default=0.1, help="5xx and resets (default 0.1)")
    parser.add_argument("--throttle-rate", type=float, default=0.1, help="429s (default 0.1)")
    parser.add_argument("--rounds", type=int, default=20, help="racing rounds (default 20)")
    parser.add_argument("--racers", type=int, default=3, help="applies racing each round (default 3)")
    parser.add_argument("--quick", action="store_true", help="3 seeds, 5 rounds, 6 environments")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.scenarios) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)} (choose from {', '.join(SCENARIOS)})")
    if args.quick:
        args.seeds, args.rounds, args.envs = 3, 5, 6
    return args


if __name__ == "__main__":
    sys.exit(main())
