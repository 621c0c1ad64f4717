"""A git repository and a target for the issue-25 repros, once against the local workspace and
once against the session's emulator through the Azure ML REST client."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import git
import pytest
from click.testing import Result

from envsync.emulator.server import EmulatorHandle
from envsync.http.session import StaticTokenCredential
from envsync.workspace import VersionBody, Workspace
from envsync.workspace.azure.workspace import AzureMLWorkspace
from envsync.workspace.local.workspace import LocalWorkspace
from tests.helpers import IMAGE, commit, run
from tests.workspace.emulator_fixtures import WORKSPACE

TOKEN = "adoption-test-token"


@dataclass
class Setup:
    """The repository (a real git work tree) and a way to reach its target by hand."""

    root: Path
    repo: git.Repo
    kind: str  # "local" | "emulator"
    url: str | None = None  # the emulator workspace's ARM URL

    def envsync(self, *args: str) -> Result:
        return run(self.root, *args)

    def commit(self, message: str = "change") -> str:
        return commit(self.repo, message)

    def workspace(self) -> Workspace:
        if self.url is None:
            return LocalWorkspace(self.root / ".envsync" / "workspace.db")
        return AzureMLWorkspace(self.url, StaticTokenCredential(TOKEN))

    def by_hand(self, name: str, version: str, image: str = IMAGE) -> None:
        """A version made outside envsync (as `az ml environment create` makes one)."""
        space = self.workspace()
        try:
            space.create_version(name, version, VersionBody(image=image))
        finally:
            space.close()

    def config(self, text: str = "") -> None:
        """envsync.yaml: `text`, plus the emulator target when this run uses one."""
        target = ""
        if self.url is not None:
            endpoint, _, path = self.url.partition("/subscriptions/")
            workspace = path.rsplit("/", 1)[-1]
            target = (
                "default_target: emu\ntargets:\n"
                f"  emu: {{type: azureml, subscription_id: 00000000-0000-0000-0000-000000000000, "
                f"resource_group: rg, workspace: {workspace}, endpoint: '{endpoint}'}}\n"
            )
        (self.root / "envsync.yaml").write_text(target + text)


def make_setup(kind: str, tmp_path: Path, emulator: EmulatorHandle | None) -> Setup:
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".gitignore").write_text(".envsync/\n")
    repo = git.Repo.init(root, initial_branch="main")
    url = None
    if kind == "emulator":
        assert emulator is not None
        url = emulator.url + WORKSPACE.format(f"ws-{uuid.uuid4().hex[:12]}")
    setup = Setup(root, repo, kind, url)
    setup.config()
    setup.commit("seed")
    return setup


@pytest.fixture(params=["local", "emulator"])
def setup(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    monkeypatch.setenv("ENVSYNC_ARM_TOKEN", TOKEN)
    monkeypatch.delenv("ENVSYNC_NO_GIT", raising=False)
    handle = request.getfixturevalue("emulator") if request.param == "emulator" else None
    return make_setup(request.param, tmp_path, handle)
