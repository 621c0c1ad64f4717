"""Killing an apply and running it again converges: the three repros of issue 19, which once
left orphans unpruned or made one apply's changes "stale" by its own earlier changes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from envsync.apply.applier import ApplyOptions, apply
from envsync.config import Config
from envsync.errors import ExitCode
from envsync.plan import saved
from envsync.plan.last_applied import TAG
from envsync.spec.load import load_valid
from envsync.workspace import ListView
from envsync.workspace.local.workspace import LocalWorkspace
from tests.helpers import IMAGE, run, write_env


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "repo"


def db(root: Path) -> LocalWorkspace:
    return LocalWorkspace(root / ".envsync" / "workspace.db")


def apply_ok(root: Path, *args: str) -> str:
    result = run(root, "apply", "--auto-approve", *args)
    assert result.exit_code == ExitCode.OK, result.output
    return result.output


def assert_converged(root: Path) -> None:
    planned = run(root, "plan", "--refresh", "--detailed-exitcode")
    assert planned.exit_code == ExitCode.OK, planned.output
    assert "No changes." in planned.output
    drift = run(root, "drift")
    assert drift.exit_code == ExitCode.OK, drift.output


def test_pruning_every_version_of_a_deleted_environment_in_one_apply(root: Path) -> None:
    for i in range(4):
        write_env(root, "gone", image=f"{IMAGE}-{i}")
        apply_ok(root)
    write_env(root, "kept")
    (root / "environments" / "gone.yml").unlink()
    out = apply_ok(root, "--prune", "--concurrency", "1")
    assert all(f"gone:{v}: archived" in out for v in "1234"), out
    assert "4 archived, 0 failed" in out
    assert_converged(root)


def test_two_explicit_versions_of_one_name_apply_together(root: Path) -> None:
    for v in ("1", "2"):
        path = write_env(root, "multi", version=v, image=f"{IMAGE}-{v}")
        path.rename(path.with_name(f"multi-{v}.yml"))
    out = apply_ok(root, "--concurrency", "1")
    assert "multi:1: created" in out and "multi:2: created" in out, out
    assert_converged(root)


def test_a_saved_plan_partly_applied_by_a_killed_run_finishes(root: Path) -> None:
    for i in range(3):
        write_env(root, "gone", image=f"{IMAGE}-{i}")
        apply_ok(root)
    write_env(root, "bumped", image=IMAGE)
    write_env(root, "retagged", tags={"team": "a"})
    apply_ok(root)
    (root / "environments" / "gone.yml").unlink()
    write_env(root, "bumped", image=f"{IMAGE}-new")
    write_env(root, "retagged", tags={"team": "b"})
    write_env(root, "fresh")
    for v in ("1", "2"):
        path = write_env(root, "multi", version=v, image=f"{IMAGE}-{v}")
        path.rename(path.with_name(f"multi-{v}.yml"))
    plan_file = root / "plan.json"
    assert run(root, "plan", "--out", str(plan_file)).exit_code == ExitCode.OK
    planned = saved.read(plan_file)
    assert len(planned.pending) == 8  # 3 orphans, a new version, an update, 3 creates

    # A killed run got through every other change and wrote no records.
    specs = load_valid(Config(root=root))
    workspace = db(root)
    half = replace(planned, changes=planned.pending[::2])
    assert not apply(half, workspace, specs, ApplyOptions(prune=True, concurrency=1)).failed
    for name in ("bumped", "retagged", "fresh", "multi", "gone"):
        container = workspace.get_environment(name)
        if container is not None and TAG in container.tags:
            tags = {k: v for k, v in container.tags.items() if k != TAG}
            workspace.update_environment(name, description=container.description, tags=tags)

    out = run(root, "apply", str(plan_file), "--prune", "--concurrency", "1")
    assert out.exit_code == ExitCode.OK, out.output
    assert "stale" not in out.output
    assert_converged(root)
    versions = {c.name: workspace.list_versions(c.name, ListView.ALL) for c in workspace.list_environments()}
    assert [v.version for v in versions["bumped"]] == ["2", "1"]


def test_an_orphan_whose_record_was_never_written_is_pruned(root: Path) -> None:
    write_env(root, "kept")
    write_env(root, "lost")
    apply_ok(root)
    workspace = db(root)
    container = workspace.get_environment("lost")
    assert container is not None
    # The apply died after creating the version, before writing the record.
    workspace.update_environment("lost", description=None, tags={})
    (root / "environments" / "lost.yml").unlink()
    planned = run(root, "plan", "--detailed-exitcode")
    assert planned.exit_code == ExitCode.CHANGES, planned.output
    assert "- lost:1" in planned.output
    out = apply_ok(root, "--prune")
    assert "lost:1: archived" in out
    assert_converged(root)


def test_progress_counts_record_only_changes_in_its_total(root: Path) -> None:
    for name in ("a", "b", "c"):
        write_env(root, name)
    apply_ok(root)
    workspace = db(root)
    for name in ("a", "b"):
        workspace.update_environment(name, description=None, tags={})
    write_env(root, "c", tags={"new": "tag"})
    out = apply_ok(root)
    assert "[3/3]" in out and "[4/" not in out, out
