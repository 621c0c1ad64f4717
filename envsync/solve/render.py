"""A solve run → text, JSON (format_version 1), or lines with GitHub annotations."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from envsync.solve.model import Outcome
from envsync.solve.run import SolveRun
from envsync.spec.problems import Problem, problem_json
from envsync.text import escape

Annotate = Callable[[Problem], str]


def text(run: SolveRun, *, annotate: Annotate | None = None, locks: Sequence[str] | None = None) -> str:
    """A line per environment (its problems as annotations with `annotate`), a summary, and the
    lock files written (with --lock)."""
    lines: list[str] = []
    for outcome in run.outcomes:
        lines += _lines(outcome, annotate)
    lines.append(summary(run))
    if locks is not None:
        written = f"{len(locks)} lock file{'s' * (len(locks) != 1)} written"
        lines += [written, *(f"  {escape.terminal(p)}" for p in locks)]
    return "\n".join(lines) + "\n"


def _lines(outcome: Outcome, annotate: Annotate | None) -> list[str]:
    # Names and notes quote the repository's specs and the solver's words: escaped for the log.
    where = f"{outcome.path}:{outcome.line}:1"
    notes = [escape.terminal(f"{where}: note: {outcome.name}: {n}") for n in outcome.notes]
    if outcome.problems:
        return [*(annotate(p) if annotate else str(p) for p in outcome.problems), *notes]
    cached = " (remembered)" if outcome.cached else ""
    head = f"{outcome.path}:{outcome.line}:1: {outcome.name}: solvable on {outcome.platform}{cached}"
    return [escape.terminal(f"{head}: {outcome.summary}"), *notes]


def summary(run: SolveRun) -> str:
    total, bad = len(run.outcomes), len(run.unsolvable)
    counted = f"{total} environment{'s' * (total != 1)}: {total - bad} solvable, {bad} unsolvable"
    remembered = total - run.solved
    parts = [counted, f"{run.solved} solved, {remembered} remembered"]
    if run.without_conda:
        count = len(run.without_conda)
        parts.append(f"{count} without a conda spec")
    return "; ".join(parts)


def to_json(run: SolveRun, *, locks: Sequence[str] | None = None) -> str:
    doc = {
        "format_version": 1,
        "solvable": len(run.outcomes) - len(run.unsolvable),
        "unsolvable": len(run.unsolvable),
        "solved": run.solved,
        "without_conda": list(run.without_conda),
        "environments": [_outcome_json(o) for o in run.outcomes],
        "locks_written": None if locks is None else list(locks),
    }
    return json.dumps(doc, indent=2) + "\n"


def _outcome_json(outcome: Outcome) -> dict[str, object]:
    return {
        "name": outcome.name,
        "path": outcome.path,
        "line": outcome.line,
        "platform": outcome.platform,
        "status": outcome.status.value,
        "cached": outcome.cached,
        "summary": None if outcome.problems else outcome.summary,
        "packages": [
            {"name": p.name, "version": p.version, "build": p.build, "manager": p.manager.value}
            for p in outcome.answer.packages
        ],
        "problems": [problem_json(p) for p in outcome.problems],
        "notes": list(outcome.notes),
    }
