"""The soak suite (soak/, run on demand) stays runnable: its entry point parses and documents
every scenario. The soak itself never runs in the test suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parent.parent / "soak" / "run.py"


def test_the_soak_entry_point_lists_its_scenarios() -> None:
    done = subprocess.run([sys.executable, str(SOAK), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    for scenario in ("faults", "kill", "race", "secrets", "--seed"):
        assert scenario in done.stdout
