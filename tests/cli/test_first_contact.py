"""The first run against Azure, as a newcomer meets it: no credential at all (azure-identity's
real DefaultAzureCredential, nothing to mock: it fails without a network), an endpoint that is
not there. Every command that opens an Azure target fails in one line, exit 1, in seconds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import git
import pytest

from envsync.cli import bug_report
from tests.helpers import commit

TARGET = (
    "default_target: dev\n"
    "targets:\n"
    "  dev: {type: azureml, subscription_id: 00000000-0000-0000-0000-000000000001,"
    " resource_group: rg-ml, workspace: ws-prod}\n"
)


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No AZURE_* variables, an empty HOME, and a PATH holding git only (so no az, azd, pwsh)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    git = Path("/usr/bin/git")
    if not (bin_dir / "git").exists():
        (bin_dir / "git").symlink_to(git)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    keep = {k: v for k, v in os.environ.items() if k.startswith("GIT_")}
    return {**keep, "PATH": str(bin_dir), "HOME": str(home), "LANG": "C.UTF-8", **extra}


def envsync(root: Path, env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    done = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "envsync", "-C", str(root), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done, time.monotonic() - start


@pytest.fixture
def azure_sample(git_sample: git.Repo) -> Path:
    root = Path(git_sample.working_dir)
    (root / "envsync.yaml").write_text(TARGET)
    commit(git_sample, "target dev")
    return root


@pytest.mark.parametrize(
    "args",
    [
        ("plan",),
        ("apply", "--auto-approve"),
        ("drift",),
        ("list",),
        ("show", "base-cpu"),
        ("import", "--out", "imported"),
    ],
)
def test_no_credential_at_all_is_one_line_with_both_fixes(
    azure_sample: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    done, seconds = envsync(azure_sample, clean_env(tmp_path), *args)
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: no Azure credential available (DefaultAzureCredential tried: ")
    assert "Azure CLI (az not on PATH)" in done.stderr and "managed identity" in done.stderr
    assert "run `az login`" in done.stderr and "azure/login with OIDC" in done.stderr
    assert seconds < 10


def test_an_endpoint_nobody_listens_on_fails_in_seconds_saying_it_retried(
    azure_sample: Path, tmp_path: Path
) -> None:
    env = clean_env(
        tmp_path, ENVSYNC_ARM_ENDPOINT="https://127.0.0.1:9", ENVSYNC_ARM_TOKEN="not-a-real-token"
    )
    done, seconds = envsync(azure_sample, env, "plan")
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith("envsync: retrying GET environments in ")
    assert "127.0.0.1:9 refused the connection" in lines[0] and lines[0].endswith("(attempt 1 of 2)")
    assert lines[1].startswith("error: GET environments: 127.0.0.1:9 refused the connection")
    assert lines[1].endswith("(gave up after 2 attempts)")
    assert seconds < 10


def test_an_unresolvable_host_names_dns() -> None:
    """Through the client: the CLI sends a static token only to loopback (docs/security.md), and
    DefaultAzureCredential would need the network before the endpoint is ever looked up."""
    from envsync.errors import WorkspaceError
    from envsync.http.session import StaticTokenCredential
    from envsync.workspace import ListView
    from envsync.workspace.azure.workspace import AzureMLWorkspace

    arm_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
    workspace = AzureMLWorkspace(f"https://arm.envsync.invalid{arm_id}", StaticTokenCredential("t-not-real"))
    start = time.monotonic()
    with pytest.raises(WorkspaceError) as caught:
        list(workspace.list_environments(ListView.ACTIVE))
    assert str(caught.value).startswith("GET environments: cannot resolve arm.envsync.invalid (DNS)")
    assert time.monotonic() - start < 10


def secret_holder(token: str) -> None:
    raise RuntimeError(str({"Authorization": f"Bearer {token}", "Accept": "application/json"}))


def test_a_bug_report_redacts_messages_but_never_source_lines() -> None:
    try:
        try:
            secret_holder("eyJ0eXAiOiJKV1Qi" + "LCJhbGciOi.secret")
        except RuntimeError as e:
            raise ValueError("while sending Bearer " + "abcdefgh" + "ijklmnop") from e
    except ValueError as e:
        report = bug_report(e)
    # The source line as it is (redacting it read as `{"Authorization": <redacted>"Bearer {token}"`).
    assert 'raise RuntimeError(str({"Authorization": f"Bearer {token}", "Accept"' in report
    assert "eyJ0eXAiOiJKV1QiLCJhbGciOi" not in report and "abcdefghijklmnop" not in report
    assert "The above exception was the direct cause of the following exception:" in report
    assert report.index("RuntimeError") < report.index("ValueError: while sending Bearer <redacted>")


def test_doctor_without_a_credential_fails_that_check_and_stops(azure_sample: Path, tmp_path: Path) -> None:
    done, seconds = envsync(azure_sample, clean_env(tmp_path), "doctor")
    assert done.returncode == 1, done.stderr
    checks = [line.strip() for line in done.stdout.splitlines() if line.startswith("  ")]
    assert checks[:2] == [checks[0], checks[1]] and checks[0].startswith("✓ config")
    assert checks[-1].startswith("✗ credential: DefaultAzureCredential: no Azure credential available")
    assert seconds < 10
