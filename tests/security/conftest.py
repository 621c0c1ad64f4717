"""The session's isolated emulator (each test uses a workspace name of its own)."""

from __future__ import annotations

from tests.workspace import emulator_fixtures

emulator = emulator_fixtures.emulator
