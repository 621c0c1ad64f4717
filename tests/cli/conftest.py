"""Fixtures for end-to-end tests against the ARM emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from envsync.emulator.server import EmulatorHandle, start_emulator
from tests.helpers import sample_repo

TOKEN = "test-token-not-a-secret"


def azure_config(root: Path, url: str, workspace: str = "ws1") -> None:
    (root / "envsync.yaml").write_text(
        "default_target: emu\n"
        "targets:\n"
        f"  emu: {{type: azureml, subscription_id: sub, resource_group: rg, workspace: {workspace},"
        f" endpoint: '{url}'}}\n"
    )


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorHandle]:
    # One workspace, its state in the one file some tests read back (isolate=False).
    with start_emulator(tmp_path / "emulator.db", isolate=False, page_size=50) as handle:
        yield handle


@pytest.fixture
def azure_repo(tmp_path: Path, emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample repository, targeting this test's emulator through the Azure ML client."""
    root = tmp_path / "repo"
    sample_repo(root)
    azure_config(root, emulator.url)
    monkeypatch.setenv("ENVSYNC_ARM_TOKEN", TOKEN)
    return root
