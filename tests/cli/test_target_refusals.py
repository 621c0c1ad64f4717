"""A real target's refusals, from the emulator, through the CLI: each one line, exit 1, naming
the fix: a principal that may only read, a missing subscription / resource group / workspace,
a workspace closed to public network access, storage refusing the identity."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import ExitCode
from envsync.http.jwt import unsigned_jwt
from tests.cli.conftest import TOKEN, azure_config
from tests.helpers import run, sample_repo

WRITE = "Microsoft.MachineLearningServices/workspaces/environments/write"


@pytest.fixture
def target(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Path, EmulatorHandle]]:
    options = getattr(request, "param", {})
    with start_emulator(tmp_path / "emulator.db", **options) as handle:
        root = sample_repo(tmp_path / "repo")
        azure_config(root, handle.url)
        yield root, handle


def last_error(output: str) -> str:
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output
    assert "Traceback" not in output
    return errors[0]


@pytest.mark.parametrize("target", [{"principal_actions": ("*/read",)}], indirect=True)
def test_a_reader_plans_but_its_apply_names_the_refused_action_and_the_role(
    target: tuple[Path, EmulatorHandle],
) -> None:
    root, _ = target
    env = {"ENVSYNC_ARM_TOKEN": TOKEN}
    assert run(root, "plan", env=env).exit_code == ExitCode.OK
    applied = run(root, "apply", "--auto-approve", "--allow-dirty", env=env)
    assert applied.exit_code == ExitCode.ERROR
    assert (
        f"403 AuthorizationFailed: principal 00000000-0000-0000-0000-000000000000 may not perform {WRITE}"
        in (applied.output)
    )
    assert (
        "grant it AzureML Data Scientist on /subscriptions/sub/resourceGroups/rg/providers/" in applied.output
    )
    assert "Apply complete: 0 created, 0 new versions, 0 updated, 3 failed." in applied.output


@pytest.mark.parametrize(
    ("target", "words"),
    [
        (
            {"missing": "subscription"},
            "404 SubscriptionNotFound: The subscription 'sub' could not be found.; check",
        ),
        (
            {"missing": "resource-group"},
            "404 ResourceGroupNotFound: Resource group 'rg' could not be found.; check",
        ),
        ({"missing": "workspace"}, "no workspace 'ws1' there: check the target's workspace in envsync.yaml"),
        ({"public_network_access": "Disabled"}, "the workspace is closed to public network access"),
    ],
    indirect=["target"],
)
@pytest.mark.parametrize("command", [("plan",), ("list",), ("drift",), ("show", "sklearn")])
def test_a_target_that_is_not_there_or_not_open_is_one_line(
    target: tuple[Path, EmulatorHandle], words: str, command: tuple[str, ...]
) -> None:
    root, _ = target
    result = run(root, *command, env={"ENVSYNC_ARM_TOKEN": TOKEN})
    assert result.exit_code == ExitCode.ERROR, result.output
    assert words in last_error(result.output)


@pytest.mark.parametrize(
    ("target", "words"),
    [
        (
            {"secrets_type": "None", "tls": True, "storage_refusal": "role"},
            "403 AuthorizationPermissionMismatch",
        ),
        ({"secrets_type": "None", "tls": True, "storage_refusal": "firewall"}, "403 AuthorizationFailure"),
    ],
    indirect=["target"],
)
def test_storage_refusing_the_identity_names_the_data_role_or_the_firewall(
    target: tuple[Path, EmulatorHandle], words: str
) -> None:
    root, handle = target
    env = {
        "ENVSYNC_ARM_TOKEN": TOKEN,
        "ENVSYNC_STORAGE_TOKEN": unsigned_jwt("https://storage.azure.com"),
        "REQUESTS_CA_BUNDLE": str(handle.ca_bundle),
    }
    applied = run(root, "apply", "--auto-approve", "--allow-dirty", env=env)
    assert applied.exit_code == ExitCode.ERROR, applied.output
    assert words in applied.output and "Traceback" not in applied.output
    hint = "Storage Blob Data Contributor" if "Mismatch" in words else "firewall"
    assert hint in applied.output


@pytest.mark.parametrize("target", [{"latency_ms": 400}], indirect=True)
@pytest.mark.parametrize(
    ("command", "phase"), [(("plan",), "planning against emu"), (("drift",), "reading emu")]
)
def test_a_phase_past_its_deadline_ends_naming_it(
    target: tuple[Path, EmulatorHandle], command: tuple[str, ...], phase: str
) -> None:
    root, _ = target
    result = run(root, *command, env={"ENVSYNC_ARM_TOKEN": TOKEN, "ENVSYNC_PHASE_TIMEOUT": "0.3"})
    assert result.exit_code == ExitCode.ERROR, result.output
    assert f"{phase} did not finish within 0.3s (its deadline; ENVSYNC_PHASE_TIMEOUT sets it)" in last_error(
        result.output
    )


def test_a_phase_timeout_that_is_not_a_number_is_refused(tmp_path: Path) -> None:
    root = sample_repo(tmp_path / "repo")
    azure_config(root, "http://127.0.0.1:9")
    result = run(root, "plan", env={"ENVSYNC_ARM_TOKEN": TOKEN, "ENVSYNC_PHASE_TIMEOUT": "soon"})
    assert result.exit_code == ExitCode.ERROR
    assert last_error(result.output) == (
        "error: ENVSYNC_PHASE_TIMEOUT must be a number of seconds above 0, not 'soon'"
    )
