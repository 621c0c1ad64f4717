"""Fixtures for end-to-end tests against the ARM emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from envsync.workspace.emulator import EmulatorHandle, start_emulator

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
    with start_emulator(tmp_path / "emulator.db", page_size=50) as handle:
        yield handle
