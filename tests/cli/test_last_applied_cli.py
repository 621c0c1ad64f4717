"""The last-applied record end to end: a no-change plan reads no versions, and every way the
record can be wrong or outdated leads back to the correct plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsync.emulator.server import EmulatorHandle
from envsync.errors import ExitCode
from envsync.plan.last_applied import TAG
from envsync.workspace import VersionBody
from envsync.workspace.local.workspace import LocalWorkspace
from tests.helpers import commit, run, write_env


@pytest.fixture
def applied(azure_repo: Path, emulator: EmulatorHandle) -> Path:
    assert run(azure_repo, "apply", "--auto-approve").exit_code == ExitCode.OK
    emulator.reset_stats()
    return azure_repo


@pytest.fixture
def db(tmp_path: Path) -> LocalWorkspace:
    return LocalWorkspace(tmp_path / "emulator.db")


def plan_output(root: Path, *args: str) -> str:
    result = run(root, "plan", "--verbose", *args)
    assert result.exit_code in (ExitCode.OK, ExitCode.CHANGES), result.output
    return result.output


def test_no_change_plan_reads_no_versions(applied: Path, emulator: EmulatorHandle) -> None:
    assert "No changes." in plan_output(applied)
    assert emulator.stats().by_kind.get("versions.list", 0) == 0
    assert emulator.stats().total == 1  # one page of containers


def test_refresh_reads_every_version(applied: Path, emulator: EmulatorHandle) -> None:
    assert "No changes." in plan_output(applied, "--refresh")
    assert emulator.stats().by_kind.get("versions.list", 0) == 3


def test_hand_edited_version_is_missed_by_the_fast_path_but_not_by_refresh_or_drift(
    applied: Path, db: LocalWorkspace
) -> None:
    db.update_version("sklearn", "1", description="edited by hand", tags={})
    assert "No changes." in plan_output(applied)  # documented: the container record is untouched
    assert "~ sklearn:1  (update in place)" in plan_output(applied, "--refresh")
    assert run(applied, "drift").exit_code == ExitCode.CHANGES


def test_version_created_by_hand_moves_latest_and_forces_a_read(applied: Path, db: LocalWorkspace) -> None:
    db.create_version("sklearn", "2", VersionBody(image="someone/else:1"))
    out = plan_output(applied)
    assert "+ sklearn:3  (new version, latest is 2)" in out


@pytest.mark.parametrize(
    "record",
    ["{not json", '{"v":1}', '{"v":2,"version":"1","fingerprint":"x","mutable":"y"}', ""],
    ids=["corrupted", "incomplete", "future-format", "emptied"],
)
def test_bad_record_falls_back_to_reading_versions(
    applied: Path, db: LocalWorkspace, emulator: EmulatorHandle, record: str
) -> None:
    container = db.get_environment("sklearn")
    assert container is not None
    db.update_environment("sklearn", description=container.description, tags={**container.tags, TAG: record})
    out = plan_output(applied)
    assert "No changes." in out
    assert emulator.stats().by_kind.get("versions.list", 0) == 1


def test_record_claiming_other_content_falls_back(applied: Path, db: LocalWorkspace) -> None:
    container = db.get_environment("sklearn")
    assert container is not None
    forged = container.tags[TAG].replace('"fingerprint":"', '"fingerprint":"0')
    db.update_environment("sklearn", description=container.description, tags={**container.tags, TAG: forged})
    assert "No changes." in plan_output(applied)
    assert "unchanged since the last apply" not in plan_output(applied).split("sklearn:1")[1].split("\n\n")[0]


def test_apply_keeps_the_users_container_tags(applied: Path, db: LocalWorkspace) -> None:
    container = db.get_environment("sklearn")
    assert container is not None
    db.update_environment("sklearn", description="mine", tags={**container.tags, "owner": "me"})
    (applied / "environments" / "sklearn.yml").write_text(
        (applied / "environments" / "sklearn.yml")
        .read_text()
        .replace("sklearn\n", "sklearn\ndescription: new\n", 1)
    )
    assert run(applied, "apply", "--auto-approve").exit_code == ExitCode.OK
    after = db.get_environment("sklearn")
    assert after is not None
    assert (after.description, after.tags["owner"]) == ("mine", "me")
    assert TAG in after.tags


def test_apply_restores_a_missing_record_without_changing_versions(
    applied: Path, db: LocalWorkspace, emulator: EmulatorHandle
) -> None:
    container = db.get_environment("sklearn")
    assert container is not None
    db.update_environment(
        "sklearn", description=None, tags={k: v for k, v in container.tags.items() if k != TAG}
    )
    out = plan_output(applied)
    assert "No changes." in out
    assert "1 unchanged environment(s) lack an up-to-date last-applied record" in out
    applied_again = run(applied, "apply")  # no confirmation needed for bookkeeping only
    assert applied_again.exit_code == ExitCode.OK, applied_again.output
    assert "sklearn:1: unchanged; last-applied record written" in applied_again.output
    assert [v.version for v in db.list_versions("sklearn")] == ["1"]
    emulator.reset_stats()
    assert "No changes." in plan_output(applied)
    assert emulator.stats().by_kind.get("versions.list", 0) == 0


def test_changed_since_reads_only_the_changed_environments(applied: Path, emulator: EmulatorHandle) -> None:
    import git

    commit(git.Repo.init(applied), "applied")
    write_env(applied, "sklearn", image="python:3.12-slim")
    out = plan_output(applied, "--changed-since", "HEAD")
    assert "sklearn" in out and "Plan: 0 orphans, 0 to create, 1 new version" in out
    # One container GET for the one changed name, no paging through every container.
    assert emulator.stats().by_kind == {"containers.get": 1, "versions.list": 1}


@pytest.mark.parametrize("edit", ["yaml", "context", "description only"])
def test_changed_since_reads_while_loading_and_plans_as_if_it_had_not(
    applied: Path, emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    """--changed-since starts reading the names its changed YAMLs hold before validating every
    file; the plan (verbose: no-ops and their reasons too) is the one it makes without that
    head start, and when the guess misses (a changed build context), it reads again."""
    import git

    from envsync.gitops import state

    commit(git.Repo.init(applied), "applied")
    if edit == "yaml":
        write_env(applied, "sklearn", image="python:3.12-slim")
    elif edit == "context":
        (applied / "environments" / "torch" / "requirements.txt").write_text("numpy==2.0.0\n")
    else:
        write_env(applied, "base-cpu", version="1", description="Base image", tags={"team": "ml"})
        (applied / "environments" / "base-cpu.yml").write_text(
            (applied / "environments" / "base-cpu.yml").read_text() + "# a comment\n"
        )
    early = plan_output(applied, "--changed-since", "HEAD")
    with monkeypatch.context() as patch:
        patch.setattr(state, "guess", lambda *args: None)
        assert plan_output(applied, "--changed-since", "HEAD") == early
