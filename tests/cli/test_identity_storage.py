"""An apply with a build context against a workspace whose default datastore is identity-based
(`credentialsType: None`): listSecrets is refused and the storage refuses keys, so the context
goes up with an Azure AD token over HTTPS. No token reaches the output."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import ExitCode
from envsync.http.jwt import unsigned_jwt
from tests.azurite import Azurite
from tests.cli.conftest import azure_config
from tests.helpers import run, sample_repo

ARM_TOKEN = "arm-token-0123456789-do-not-print"
STORAGE_TOKEN = unsigned_jwt("https://storage.azure.com", lifetime=7200)


def _apply_and_replan(root: Path, env: dict[str, str]) -> str:
    applied = run(root, "apply", "--auto-approve", env=env)
    assert applied.exit_code == ExitCode.OK, applied.output
    assert "Apply complete: 3 created" in applied.output
    again = run(root, "plan", "--detailed-exitcode", "--refresh", env=env)
    assert again.exit_code == ExitCode.OK, again.output
    imported = run(root, "import", "--name", "torch", "--out", str(root / "imported"), env=env)
    assert imported.exit_code == ExitCode.OK, imported.output
    assert (root / "imported" / "torch" / "Dockerfile").exists() or any(
        (root / "imported").rglob("Dockerfile")
    )
    return applied.output + again.output + imported.output


@pytest.fixture
def identity_emulator(tmp_path: Path) -> Iterator[EmulatorHandle]:
    """The emulator's own storage, identity-based: bearer tokens only, over its own TLS."""
    with start_emulator(tmp_path / "emulator.db", secrets_type="None", tls=True) as handle:
        yield handle


def test_apply_with_a_context_on_identity_based_storage(
    identity_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    root = sample_repo(tmp_path / "repo")
    azure_config(root, identity_emulator.url)
    env = {
        "ENVSYNC_ARM_TOKEN": ARM_TOKEN,
        "ENVSYNC_STORAGE_TOKEN": STORAGE_TOKEN,
        "REQUESTS_CA_BUNDLE": str(identity_emulator.ca_bundle),
    }
    output = _apply_and_replan(root, env)
    assert ARM_TOKEN not in output and STORAGE_TOKEN not in output and "eyJ" not in output
    kinds = identity_emulator.stats().by_kind
    assert "datastores.listSecrets" not in kinds and kinds.get("blob.put", 0) == 2


def test_apply_with_a_context_on_azurite_with_a_token(azurite: Azurite, tmp_path: Path) -> None:
    options = {"blob_endpoint": azurite.account_url, "blob_ca_bundle": str(azurite.ca_bundle)}
    with start_emulator(tmp_path / "emulator.db", secrets_type="None", **options) as emulator:
        root = sample_repo(tmp_path / "repo")
        azure_config(root, emulator.url)
        env = {"ENVSYNC_ARM_TOKEN": ARM_TOKEN, "REQUESTS_CA_BUNDLE": str(azurite.ca_bundle)}
        output = _apply_and_replan(root, env)  # the storage token is minted for the loopback emulator
    assert ARM_TOKEN not in output and "eyJ" not in output


def test_a_storage_refusal_names_the_role_and_no_token(
    identity_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    root = sample_repo(tmp_path / "repo")
    azure_config(root, identity_emulator.url)
    arm_audience = unsigned_jwt("https://management.azure.com")  # a token for the wrong service
    env = {
        "ENVSYNC_ARM_TOKEN": ARM_TOKEN,
        "ENVSYNC_STORAGE_TOKEN": arm_audience,
        "REQUESTS_CA_BUNDLE": str(identity_emulator.ca_bundle),
    }
    applied = run(root, "apply", "--auto-approve", env=env)
    assert applied.exit_code == ExitCode.ERROR
    assert "Storage Blob Data Contributor" in applied.output and "Azure AD token" in applied.output
    assert arm_audience not in applied.output and "eyJ" not in applied.output


def test_emulator_cli_prints_its_ca_bundle(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "envsync",
        "emulator",
        "--tls",
        "--secrets-type",
        "None",
        "--db",
        str(tmp_path / "e.db"),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().rsplit(" ", 1)[1]
        label, _, bundle = proc.stdout.readline().strip().partition(": ")
        assert url.startswith("https://127.0.0.1:") and label == "CA bundle" and Path(bundle).is_file()
        assert requests.get(f"{url}/_emulator/stats", verify=bundle, timeout=5).status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{url}/_emulator/stats", verify=True, timeout=5)  # never trusted by default
    finally:
        proc.terminate()
        proc.wait(10)
