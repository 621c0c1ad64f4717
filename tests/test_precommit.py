"""The envsync-validate hook (.pre-commit-hooks.yaml) under the real pre-commit, from PyPI: it
installs envsync from a git repository of this source, as a user's pre-commit would from ours,
and runs it on a temporary repository with a good and a bad environment YAML."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import git
import pytest
import yaml

from tests.helpers import commit, write_env

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"  # the `test` extra installs it
SOURCE = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "envsync")


def test_the_hook_is_declared() -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "envsync-validate" and hook["entry"] == "envsync validate"
    assert hook["language"] == "python" and hook["pass_filenames"] is False


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This source as a git repository at a commit: what `repo:` and `rev:` name."""
    root = tmp_path_factory.mktemp("envsync-hook")
    for name in SOURCE:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, root / name)
    return root, commit(git.Repo.init(root, initial_branch="main"), "envsync")


def _pre_commit(repo: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    assert PRE_COMMIT.exists(), "pre-commit comes with envsync's `test` extra"
    env = {**os.environ, "PRE_COMMIT_HOME": str(cache), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        [str(PRE_COMMIT), "run", "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # the first run makes the hook's virtualenv: pip installs envsync
        check=False,
    )


@pytest.mark.slow
def test_pre_commit_runs_the_hook_on_a_good_and_a_bad_yaml(
    tmp_path: Path, hook_repo: tuple[Path, str]
) -> None:
    source, sha = hook_repo
    repo = git.Repo.init(tmp_path / "environments-repo", initial_branch="main")
    root = Path(repo.working_dir)
    config = {"repos": [{"repo": str(source), "rev": sha, "hooks": [{"id": "envsync-validate"}]}]}
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    write_env(root, "good", version="1")
    repo.git.add(A=True)  # --all-files means every tracked file
    good = _pre_commit(root, tmp_path / "cache")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "envsync validate" in good.stdout and "Passed" in good.stdout

    (root / "environments" / "bad.yml").write_text("name: bad\nimage: 3\n")
    repo.git.add(A=True)
    bad = _pre_commit(root, tmp_path / "cache")
    assert bad.returncode == 1
    assert "- hook id: envsync-validate" in bad.stdout
    assert "environments/bad.yml:2:8: error: image must be a string, not an integer" in bad.stdout
    assert "1 error, 0 warnings in 2 files" in bad.stdout
