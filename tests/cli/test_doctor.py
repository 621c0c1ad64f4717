"""envsync doctor: every check against a healthy emulator workspace passes (exit 0); a limited
principal, a missing workspace and key-less storage without the data role fail (exit 1),
naming the fix."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from envsync.emulator.server import start_emulator
from envsync.errors import ExitCode
from envsync.http.jwt import unsigned_jwt
from tests.cli.conftest import azure_config
from tests.helpers import commit, run

STORAGE_TOKEN = unsigned_jwt("https://storage.azure.com")


@pytest.fixture
def doctor(
    git_sample: git.Repo, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Path, dict[str, str]]]:
    """The committed sample repository targeting an emulator started with the test's options
    (identity-based storage over TLS unless they say otherwise)."""
    options = {"secrets_type": "None", "tls": True, **getattr(request, "param", {})}
    with start_emulator(tmp_path / "emulator.db", **options) as handle:
        root = Path(git_sample.working_dir)
        azure_config(root, handle.url)
        commit(git_sample, "target emu")
        env = {
            "ENVSYNC_ARM_TOKEN": unsigned_jwt("https://management.azure.com"),
            "ENVSYNC_STORAGE_TOKEN": STORAGE_TOKEN,
        }
        if handle.ca_bundle:
            env["REQUESTS_CA_BUNDLE"] = str(handle.ca_bundle)
        yield root, env


def lines(output: str) -> dict[str, str]:
    """check name → its line, for the target's checks."""
    found = {}
    for line in output.splitlines():
        if line.startswith(("  ✓ ", "  ✗ ")):
            found[line[4:].split(":", 1)[0]] = line.strip()
    return found


def failing(doctor: tuple[Path, dict[str, str]]) -> dict[str, str]:
    """The checks of a doctor run that must fail (exit 1)."""
    root, env = doctor
    result = run(root, "doctor", env=env)
    assert result.exit_code == ExitCode.ERROR, result.output
    return lines(result.output)


def test_a_healthy_workspace_passes_every_check(doctor: tuple[Path, dict[str, str]]) -> None:
    root, env = doctor
    result = run(root, "doctor", env=env)
    assert result.exit_code == ExitCode.OK, result.output
    checks = lines(result.output)
    assert list(checks) == [
        "config",
        "git",
        "credential",
        "ARM reachable",
        "workspace exists",
        "permissions",
        "environments readable",
        "default datastore",
        "blob container reachable",
    ]
    assert all(line.startswith("✓") for line in checks.values())
    assert (
        "tenant 00000000-0000-0000-0000-000000000000, principal 00000000-0000-0000-0000-000000000000"
        in (checks["credential"])
    )
    assert "ws1 in westeurope, public network access Enabled" in checks["workspace exists"]
    assert "identity-based: Azure AD token" in checks["default datastore"]
    assert result.output.endswith("All checks passed.\n")
    assert env["ENVSYNC_ARM_TOKEN"] not in result.output


@pytest.mark.parametrize("doctor", [{"principal_actions": ("*/read",)}], indirect=True)
def test_a_reader_fails_the_permissions_check_with_the_role(doctor: tuple[Path, dict[str, str]]) -> None:
    root, env = doctor
    result = run(root, "doctor", env=env)
    assert result.exit_code == ExitCode.ERROR
    line = lines(result.output)["permissions"]
    assert line.startswith(
        "✗ permissions: missing Microsoft.MachineLearningServices/workspaces/environments/write (apply) → "
        "grant the principal AzureML Data Scientist on /subscriptions/sub/"
    )
    assert lines(result.output)["environments readable"].startswith("✓")


@pytest.mark.parametrize(
    "doctor",
    [{"principal_actions": ("Microsoft.MachineLearningServices/*",), "principal_not_actions": ("*/write",)}],
    indirect=True,
)
def test_not_actions_take_away_what_actions_grant(doctor: tuple[Path, dict[str, str]]) -> None:
    root, env = doctor
    result = run(root, "doctor", "--format", "json", env=env)
    doc = json.loads(result.output)
    assert result.exit_code == ExitCode.ERROR and doc["ok"] is False
    permissions = next(c for s in doc["sections"] for c in s["checks"] if c["name"] == "permissions")
    assert (
        permissions["detail"]
        == "missing Microsoft.MachineLearningServices/workspaces/environments/write (apply)"
    )
    assert "AzureML Data Scientist" in permissions["fix"]


@pytest.mark.parametrize("doctor", [{"missing": "workspace"}], indirect=True)
def test_a_missing_workspace_stops_at_its_check(doctor: tuple[Path, dict[str, str]]) -> None:
    checks = failing(doctor)
    assert list(checks)[-1] == "workspace exists"
    assert (
        "no workspace 'ws1' there: check the target's workspace in envsync.yaml" in checks["workspace exists"]
    )


@pytest.mark.parametrize("doctor", [{"storage_refusal": "role"}], indirect=True)
def test_key_less_storage_without_the_data_role_names_it(doctor: tuple[Path, dict[str, str]]) -> None:
    line = failing(doctor)["blob container reachable"]
    assert line.startswith("✗ blob container reachable: list blobs in azureml-blobstore-emulator: 403")
    assert "AuthorizationPermissionMismatch" in line and "Storage Blob Data Contributor" in line


@pytest.mark.parametrize("doctor", [{"public_network_access": "Disabled"}], indirect=True)
def test_a_closed_workspace_says_where_to_run_from(doctor: tuple[Path, dict[str, str]]) -> None:
    checks = failing(doctor)
    assert "public network access Disabled" in checks["workspace exists"]
    assert "closed to public network access" in checks["environments readable"]


def test_the_local_target_gets_the_checks_that_apply(git_sample: git.Repo) -> None:
    result = run(Path(git_sample.working_dir), "doctor")
    assert result.exit_code == ExitCode.OK, result.output
    assert list(lines(result.output)) == ["config", "git", "local workspace"]


def test_outside_git_the_git_check_fails(sample: Path) -> None:
    result = run(sample, "doctor")
    assert result.exit_code == ExitCode.ERROR
    assert "✗ git: " in result.output and "is not in a git repository" in result.output


def test_a_hostile_target_name_is_escaped(git_sample: git.Repo) -> None:
    root = Path(git_sample.working_dir)
    (root / "envsync.yaml").write_text('targets:\n  "evil\\e]0;x\\a": {type: local, path: .envsync/w.db}\n')
    result = run(root, "doctor", "--all-targets")
    assert "\x1b" not in result.output and "\\x1b]0;x" in result.output
