"""Credentials go where the runner's environment says, never where the repository says: the
environment's endpoint beats envsync.yaml's, a file may name only Azure's clouds or loopback,
and a static token is sent only to loopback."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from envsync.emulator.server import EmulatorHandle
from envsync.errors import ExitCode
from envsync.http.clouds import may_come_from_a_file
from tests.helpers import run, sample_repo

TOKEN = "static-token-for-tests-only"


def config(root: Path, endpoint: str | None) -> None:
    line = f", endpoint: '{endpoint}'" if endpoint else ""
    (root / "envsync.yaml").write_text(
        "default_target: az\ntargets:\n"
        f"  az: {{type: azureml, subscription_id: s, resource_group: rg, workspace: ws-{uuid.uuid4().hex[:8]}"
        f"{line}}}\n"
    )


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://management.azure.com", True),
        ("https://management.azure.com/", True),
        ("https://management.chinacloudapi.cn", True),
        ("https://management.usgovcloudapi.net", True),
        ("http://127.0.0.1:8080", True),
        ("https://localhost:9", True),
        ("http://[::1]:1", True),
        ("https://evil.invalid", False),
        ("http://management.azure.com", False),  # plain http to the real host
        ("https://management.azure.com.evil.invalid", False),
        ("https://management.azure.com:8443", False),
        ("https://management.azure.com/x/../proxy", False),
        ("https://user@management.azure.com", False),
        ("https://10.0.0.1", False),
    ],
)
def test_the_endpoint_rule_for_files(url: str, ok: bool) -> None:
    assert may_come_from_a_file(url) is ok


@pytest.mark.parametrize("endpoint", ["https://evil.invalid", "https://management.azure.com.evil.invalid/"])
def test_a_foreign_endpoint_in_envsync_yaml_is_refused_at_its_line(tmp_path: Path, endpoint: str) -> None:
    sample_repo(tmp_path)
    config(tmp_path, endpoint)
    result = run(tmp_path, "plan", env={"ENVSYNC_ARM_TOKEN": TOKEN})
    assert result.exit_code == ExitCode.ERROR
    assert "envsync.yaml:3:" in result.output and "ENVSYNC_ARM_ENDPOINT" in result.output
    assert "Traceback" not in result.output


def test_the_runners_endpoint_beats_the_files(tmp_path: Path, emulator: EmulatorHandle) -> None:
    """The file names public Azure (unreachable here); the runner's emulator answers instead."""
    sample_repo(tmp_path)
    config(tmp_path, "https://management.azure.com")
    result = run(tmp_path, "plan", env={"ENVSYNC_ARM_ENDPOINT": emulator.url, "ENVSYNC_ARM_TOKEN": TOKEN})
    assert result.exit_code == ExitCode.OK, result.output
    assert "3 to create" in result.output


@pytest.mark.parametrize("where", ["file", "environment"])
def test_a_static_token_goes_only_to_loopback(tmp_path: Path, where: str) -> None:
    sample_repo(tmp_path)
    endpoint = "https://management.azure.com"
    config(tmp_path, endpoint if where == "file" else None)
    env = {
        "ENVSYNC_ARM_TOKEN": TOKEN,
        **({"ENVSYNC_ARM_ENDPOINT": endpoint} if where == "environment" else {}),
    }
    result = run(tmp_path, "plan", env=env)
    assert result.exit_code == ExitCode.ERROR
    assert "ENVSYNC_ARM_TOKEN is sent only to a loopback endpoint" in result.output
    assert TOKEN not in result.output
