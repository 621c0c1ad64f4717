"""What the endpoint tests share: one hostile server per session, a repository targeting it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile import HostileServer

TOKEN = "hostile-test-token-not-a-secret"


@pytest.fixture(scope="session")
def hostile_server() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.stop()


@pytest.fixture
def hostile(hostile_server: HostileServer, monkeypatch: pytest.MonkeyPatch) -> HostileServer:
    """The session's hostile server with no script yet, and the runner's token for it."""
    hostile_server.script({})
    monkeypatch.setenv("ENVSYNC_ARM_TOKEN", TOKEN)
    return hostile_server


def hostile_target(root: Path, url: str) -> None:
    """envsync.yaml in `root` whose default target is an Azure ML workspace at `url`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "envsync.yaml").write_text(
        "default_target: hostile\n"
        "targets:\n"
        "  hostile: {type: azureml, subscription_id: sub, resource_group: rg, workspace: ws1,"
        f" endpoint: '{url}'}}\n"
    )


def files_under(root: Path) -> dict[str, bytes]:
    """Every file below `root` with its bytes (symlinks as their target): a before/after
    snapshot. envsync's own state folder (.envsync/, its caches) is left out."""
    found = {}
    for path in sorted(root.rglob("*")):
        if ".envsync" in path.relative_to(root).parts:
            continue
        if path.is_symlink():
            found[path.relative_to(root).as_posix()] = str(path.readlink()).encode()
        elif path.is_file():
            found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found
