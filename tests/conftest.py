"""Fixtures every test folder shares: a pinned git identity, and the sample repository."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from tests.azurite import azurite  # noqa: F401 - the session's Azurite, for every folder
from tests.helpers import commit, sample_repo
from tests.security.endpoint_fixtures import hostile, hostile_server  # noqa: F401 - the hostile endpoint

IDENTITY = {
    "GIT_AUTHOR_NAME": "envsync test",
    "GIT_AUTHOR_EMAIL": "test@envsync.invalid",
    "GIT_COMMITTER_NAME": "envsync test",
    "GIT_COMMITTER_EMAIL": "test@envsync.invalid",
}


@pytest.fixture(autouse=True, scope="session")
def git_identity() -> Iterator[None]:
    """A bare CI runner has no global git identity: commits made by tests must not need one."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in IDENTITY.items():
            patch.setenv(key, value)
        yield


@pytest.fixture(autouse=True, scope="session")
def plain_folders_allowed() -> Iterator[None]:
    """Most tests plan a folder of YAMLs they just wrote, with no git around it: they run with
    the opt-out (ENVSYNC_NO_GIT). Tests of git's part (the requirement itself, adoption, the
    dirty check, provenance) unset it and use real repositories."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ENVSYNC_NO_GIT", "1")
        yield


# What a GitHub Actions job sets: the suite must behave the same on a runner as on a laptop
# (annotations, the commit a report names, links), so tests that want them set them.
ACTIONS_VARIABLES = (
    "GITHUB_ACTIONS",
    "GITHUB_EVENT_NAME",
    "GITHUB_EVENT_PATH",
    "GITHUB_SHA",
    "GITHUB_WORKSPACE",
    "GITHUB_SERVER_URL",
    "GITHUB_REPOSITORY",
    "GITHUB_RUN_ID",
    "GITHUB_TOKEN",
    "GITHUB_API_URL",
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
    "ENVSYNC_GITHUB_AUTHOR",
)


@pytest.fixture(autouse=True, scope="session")
def outside_github_actions() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for key in ACTIONS_VARIABLES:
            patch.delenv(key, raising=False)
        yield


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """The sample repository's files (see `sample_repo`), not under git."""
    return sample_repo(tmp_path)


@pytest.fixture
def git_sample(sample: Path) -> git.Repo:
    """The sample repository committed on `main` (plans and JSON outputs ignored by git)."""
    (sample / ".gitignore").write_text(".envsync/\n*.json\n")
    made = git.Repo.init(sample, initial_branch="main")
    commit(made, "seed")
    return made
