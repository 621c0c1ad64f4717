"""Every path a repository names resolves inside it, symlinks included: anything else is a
file:line error, exit 1, and the outside file is never read (its content shows nowhere)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import git
import pytest

from envsync.errors import ExitCode
from tests.helpers import commit, run, write_context, write_env

SECRET = "TOPSECRET-7d1e"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the repository, as the runner's home is: a conda file, a build context,
    and a token cache that is not valid YAML (read, it would show in a parse error)."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.yml").write_text(f"name: {SECRET}\ndependencies: [python=3.11]\n")
    (folder / "token_cache.json").write_text(f'{{"{SECRET}": [')
    (folder / "ctx").mkdir()
    (folder / "ctx" / "Dockerfile").write_text(f"FROM {SECRET}\n")
    return folder


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    write_env(root, "base-cpu", version="1")
    made = git.Repo.init(root, initial_branch="main")
    commit(made, "seed")
    return root


Setup = Callable[[Path, Path], None]


def conda_relative(root: Path, out: Path) -> None:
    write_env(root, "x", conda_file="../../outside/secret.yml")


def conda_absolute(root: Path, out: Path) -> None:
    write_env(root, "x", conda_file=str(out / "secret.yml"))


def conda_symlink(root: Path, out: Path) -> None:
    (root / "environments" / "conda.yml").symlink_to(out / "secret.yml")
    write_env(root, "x", conda_file="conda.yml")


def yaml_symlink(root: Path, out: Path) -> None:
    (root / "environments" / "x.yml").symlink_to(out / "token_cache.json")


def build_relative(root: Path, out: Path) -> None:
    write_env(root, "x", build={"path": "../../outside/ctx"})


def build_symlink(root: Path, out: Path) -> None:
    (root / "environments" / "ctx").symlink_to(out / "ctx")
    write_env(root, "x", build={"path": "ctx"})


def file_in_context_symlink(root: Path, out: Path) -> None:
    context = write_context(root, "x")
    (context / "cache.json").symlink_to(out / "token_cache.json")
    write_env(root, "x", build={"path": "x"})


CASES: list[tuple[str, Setup, str]] = [
    (
        "conda file ../../",
        conda_relative,
        "environments/x.yml:2:13: conda file '../../outside/secret.yml' is outside",
    ),
    ("conda file absolute", conda_absolute, "environments/x.yml:2:13: conda file '"),
    ("conda file a symlink out", conda_symlink, "environments/x.yml:2:13: conda file 'conda.yml' is outside"),
    (
        "environment YAML a symlink out",
        yaml_symlink,
        "environments/x.yml:1:1: resolves outside the repository",
    ),
    (
        "build.path ../../",
        build_relative,
        "environments/x.yml:3:9: build context '../../outside/ctx' is outside",
    ),
    ("build.path a symlink out", build_symlink, "environments/x.yml:3:9: build context 'ctx' is outside"),
    ("a file of the context a symlink out", file_in_context_symlink, "'cache.json' is a symlink to"),
]


@pytest.mark.parametrize(("setup", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_path_out_of_the_repository_is_an_error_at_its_line(
    repo: Path, outside: Path, setup: Setup, expected: str, command: str
) -> None:
    setup(repo, outside)
    result = run(repo, command)
    assert result.exit_code == ExitCode.ERROR, result.output
    assert expected in unmarked(result.output)  # validate marks the severity, a plan's details do not
    assert SECRET not in result.output
    assert "Traceback" not in result.output


def test_a_symlink_inside_to_inside_is_fine(repo: Path) -> None:
    (repo / "shared").mkdir()
    (repo / "shared" / "py.yml").write_text("dependencies: [python=3.11]\n")
    (repo / "environments" / "conda.yml").symlink_to(repo / "shared" / "py.yml")
    write_env(repo, "x", conda_file="conda.yml")
    assert run(repo, "validate").exit_code == ExitCode.OK


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            "environments: ['../outside/*.yml']\n",
            "envsync.yaml:1:16: environments: glob '../outside/*.yml' leaves",
        ),
        ("environments: '/etc/*.yml'\n", "envsync.yaml:1:15: environments: glob '/etc/*.yml' leaves"),
        (
            "references: [jobs/*.yml, '../**/*.yml']\n",
            "envsync.yaml:1:26: references: glob '../**/*.yml' leaves",
        ),
        (
            "targets:\n  dev: {type: azureml, subscription_id: s, resource_group: rg, workspace: ws1,"
            " environments: ['/x/*.yml']}\n",
            "envsync.yaml:2:95: targets.dev.environments: glob '/x/*.yml' leaves",
        ),
        (
            "targets:\n  scratch: {type: local, path: ../outside/x.db}\n",
            "envsync.yaml:2:32: targets.scratch: '../outside/x.db' resolves outside",
        ),
    ],
)
def test_config_paths_out_of_the_repository_are_refused(
    repo: Path, outside: Path, config: str, expected: str
) -> None:
    (repo / "envsync.yaml").write_text(config)
    result = run(repo, "plan", "-t", "scratch") if "scratch" in config else run(repo, "plan")
    assert result.exit_code == ExitCode.ERROR, result.output
    assert expected.replace("OUT", str(outside)) in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in outside.iterdir()) == ["ctx", "secret.yml", "token_cache.json"]


def test_a_committed_envsync_folder_symlink_writes_nothing_outside(repo: Path, outside: Path) -> None:
    (repo / ".envsync").symlink_to(outside, target_is_directory=True)
    result = run(repo, "plan")
    assert result.exit_code == ExitCode.ERROR
    assert "target local: '.envsync/workspace.db' resolves outside the repository" in result.output
    assert sorted(p.name for p in outside.iterdir()) == ["ctx", "secret.yml", "token_cache.json"]


def test_the_runners_envsync_db_may_be_anywhere(repo: Path, tmp_path: Path) -> None:
    db = tmp_path / "elsewhere" / "ws.db"
    db.parent.mkdir()
    assert run(repo, "plan", env={"ENVSYNC_DB": str(db)}).exit_code == ExitCode.OK
    assert db.exists()


def test_a_job_yaml_symlinked_out_is_not_read(repo: Path, outside: Path) -> None:
    (repo / "jobs").mkdir()
    (repo / "jobs" / "train.yml").symlink_to(outside / "token_cache.json")
    (repo / "envsync.yaml").write_text("references: ['jobs/*.yml']\n")
    result = run(repo, "validate")
    assert result.exit_code == ExitCode.ERROR
    assert "jobs/train.yml:1:1: resolves outside the repository" in unmarked(result.output)
    assert SECRET not in result.output
    assert os.path.islink(repo / "jobs" / "train.yml")


def test_a_file_named_on_the_command_line_outside_the_repository_is_not_read(
    repo: Path, outside: Path
) -> None:
    """pre-commit passes the files a commit touches: a committed symlink among them, or a path
    beyond the root, is refused like a glob's match."""
    (repo / "environments" / "x.yml").symlink_to(outside / "token_cache.json")
    for given in ("environments/x.yml", str(outside / "token_cache.json")):
        result = run(repo, "validate", given)
        assert result.exit_code == ExitCode.ERROR, result.output
        assert "resolves outside the repository" in result.output
        assert SECRET not in result.output


def unmarked(output: str) -> str:
    """`output` without validate's `error: `/`warning: ` after each `path:line:col: `."""
    return re.sub(r"(:\d+:\d+: )(?:error|warning): ", r"\1", output)
