"""Progress while reading: a live counter on a terminal, a line every few seconds in a log,
nothing with -q; stdout keeps only the command's output."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from envsync.commands import progress
from envsync.errors import ExitCode
from tests.helpers import run


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_gets_a_line_every_few_seconds_and_nothing_for_quick_reads() -> None:
    clock, log = _Clock(), io.StringIO()
    shown = progress.ReadProgress("Reading prod", log, clock)
    shown.count(listed=100)
    clock.now = progress.LOG_EVERY - 0.1
    shown.count(read=1)
    assert log.getvalue() == ""  # a quick read says nothing
    clock.now = progress.LOG_EVERY
    shown.count(read=1)
    clock.now += 1
    shown.count(read=1)  # too soon for another line
    clock.now += progress.LOG_EVERY
    shown.count(read=1)
    shown.close()
    assert log.getvalue().splitlines() == [
        "Reading prod: 100 environments listed, 2 read…",
        "Reading prod: 100 environments listed, 4 read…",
    ]


def test_terminal_gets_one_live_line_ended_by_close() -> None:
    clock, tty = _Clock(), _Terminal()
    shown = progress.ReadProgress("Reading prod", tty, clock)
    clock.now = progress.LIVE_AFTER
    for _ in range(3):
        shown.count(read=1)
        clock.now += 2 * progress.LIVE_EVERY
    shown.close()
    shown.count(read=1)  # after close: counted, not drawn
    out = tty.getvalue()
    assert "\n" not in out.rstrip("\n") and out.count("\r\033[K") == 4
    assert out.endswith("Reading prod: 0 environments listed, 3 read, done\n")


def test_cli_progress_on_stderr_and_q_silences_it(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "LOG_EVERY", 0.0)  # every read draws, as a long one would
    planned = run(sample, "plan")
    assert planned.exit_code == ExitCode.OK, planned.output
    assert "Reading local: " in planned.stderr and "Reading" not in planned.stdout
    assert planned.stdout.startswith("Target: local")
    quiet = run(sample, "-q", "plan")
    assert quiet.exit_code == ExitCode.OK and "Reading" not in quiet.output
    assert run(sample, "-q", "apply", "--auto-approve").stdout.count("[1/3]") == 0
    drifted = run(sample, "drift")
    assert "Reading local: " in drifted.stderr and drifted.stdout.startswith("Target: local")
