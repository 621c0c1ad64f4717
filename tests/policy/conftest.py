"""A repository in tmp_path with envsync.yaml's policy and some files: what does it find?"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from envsync.config import load
from envsync.spec.load import LoadResult, load_all

Find = Callable[..., list[str]]


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def loaded(root: Path, files: dict[str, str], policy: str = "", target: str | None = None) -> LoadResult:
    """`files` loaded under a config whose text is `policy`, with that policy's findings."""
    write(root, {"envsync.yaml": policy, **files})
    config = load(root)
    return load_all(config).with_policy(config.policy_key(target))


@pytest.fixture
def find(tmp_path: Path) -> Find:
    """`find(files, policy)` → ["path:line:col rule", ...] of the policy's findings; any other
    problem (the input itself being invalid) fails the test."""

    def run(files: dict[str, str], policy: str = "", target: str | None = None) -> list[str]:
        result = loaded(tmp_path, files, policy, target)
        assert [str(p) for p in result.problems if not p.rule] == []
        return [f"{p.path}:{p.line}:{p.col} {p.rule}" for p in result.problems]

    return run
