"""The solvable rule: a plan solves its environments (remembered answers first) and reports,
at the pins' lines, each spec that cannot be installed. Loading never runs it: it needs the
channels, so validate stays offline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from envsync.solve.run import solve_specs
from envsync.spec.model import EnvironmentSpec
from envsync.spec.policy.engine import CLEAN, read_text
from envsync.spec.policy.settings import Policy
from envsync.spec.policy.subject import Hit
from envsync.spec.policy.suppress import settle
from envsync.spec.problems import Verdict
from envsync.spec.solving import SOLVABLE, SolveSettings


def check(specs: Sequence[EnvironmentSpec], settings: SolveSettings, policy: Policy, root: Path) -> Verdict:
    if not policy.on(SOLVABLE):
        return CLEAN
    run = solve_specs(specs, settings, root)
    hits = [
        Hit(SOLVABLE, p.path, p.line, p.col, p.message)
        for outcome in run.unsolvable
        for p in outcome.problems
    ]
    return settle(hits, policy, lambda shown: read_text(root, shown)) if hits else CLEAN
