"""The shared repository walk answers globs exactly as `Path.glob` does."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import pytest

from envsync.spec.files import walk

GLOBS = [
    "environments/**/*.yml",
    "environments/**/*.yaml",
    "**/*.yml",
    "*.yml",
    "env/*",
    "env/**/b.yml",
    "**",
    "sub/**/a",
    "*/*.yaml",
    "**/e[1].yml",
    "**/e?1?.yml",
    "env/[!a]*",
    ".hid/**/*",
    "environments/**/*.y*ml",
    "./env/*.yml",
    "**/**/b.yml",
    "**/e[[]1].yml",
    "env/[a-c]*",
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    rnd = random.Random(1)
    names = ["a", "b.yml", "c.yaml", ".h.yml", "x.YML", "e[1].yml", "e1.yml", "q"]
    for _ in range(300):
        parts = [rnd.choice(["env", "sub", "a1", ".hid", "environments"]) for _ in range(rnd.randint(0, 3))]
        folder = root.joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / rnd.choice(names)).write_text("x")
    return root


@pytest.mark.parametrize("pattern", GLOBS)
def test_matching_is_path_glob(tree: Path, pattern: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no regex built with an ambiguous set
        got = walk(tree).matching([pattern])
    assert got == sorted(p for p in tree.glob(pattern) if p.is_file())
    assert got or pattern in ("**", "sub/**/a")


def test_skipped_folders_and_links_are_remembered(tmp_path: Path) -> None:
    (tmp_path / "ctx" / "node_modules").mkdir(parents=True)
    (tmp_path / "ctx" / "node_modules" / "x.yml").write_text("x")
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM x")
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "f").write_text("f")
    (tmp_path / "plain" / "link").symlink_to(tmp_path / "plain" / "f")
    files = walk(tmp_path)
    assert files.files == ("ctx/Dockerfile", "plain/f", "plain/link")
    assert files.under("ctx") == (["ctx/Dockerfile"], [], False)
    assert files.under("plain") == (["plain/f", "plain/link"], [], False)
    assert files.under("ctx/")[2] is False
