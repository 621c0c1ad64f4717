"""Every kind of drift, made by hand outside envsync, against the local workspace (SQLite) and
against the ARM emulator (REST): `drift` exits 2; `apply --refresh --auto-approve` exits 0; then
healable kinds are gone (`drift` exits 0, a plain fast-path `plan` prints "No changes.") and
report-only kinds stay reported with their reason."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import git
import pytest
import requests

from envsync.emulator.server import EmulatorHandle
from envsync.errors import ExitCode
from envsync.plan import last_applied
from envsync.workspace import ListView
from envsync.workspace.local.workspace import LocalWorkspace
from tests.cli.conftest import TOKEN, azure_config
from tests.helpers import IMAGE, commit, run, sample_repo

API = {"api-version": "2025-12-01"}
WS_PATH = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1"


class Hand(Protocol):
    """Someone editing the workspace directly, as the studio or `az ml` would."""

    def edit_version(self, name: str, version: str, change: Callable[[dict[str, Any]], None]) -> None: ...

    def create_version(self, name: str, version: str, image: str) -> None: ...

    def edit_container_tags(self, name: str, change: Callable[[dict[str, str]], None]) -> None: ...

    def archive_environment(self, name: str) -> None: ...

    def versions(self, name: str) -> dict[str, bool]:
        """version → archived"""


class SqliteHand:
    """Straight into the local workspace's SQLite file."""

    def __init__(self, db: Path):
        self.db = db

    def _ws(self) -> LocalWorkspace:
        return LocalWorkspace(self.db)

    def edit_version(self, name: str, version: str, change: Callable[[dict[str, Any]], None]) -> None:
        ws = self._ws()
        current = ws.get_version(name, version)
        assert current is not None
        doc = {
            "description": current.body.description,
            "tags": dict(current.body.tags),
            "isArchived": current.archived,
        }
        change(doc)
        ws.update_version(name, version, description=doc["description"], tags=doc["tags"])
        if doc["isArchived"] != current.archived:
            ws.set_archived(name, version, doc["isArchived"])
        ws.close()

    def create_version(self, name: str, version: str, image: str) -> None:
        from envsync.workspace import VersionBody

        ws = self._ws()
        ws.create_version(name, version, VersionBody(image=image))
        ws.close()

    def edit_container_tags(self, name: str, change: Callable[[dict[str, str]], None]) -> None:
        ws = self._ws()
        container = ws.get_environment(name)
        assert container is not None
        tags = dict(container.tags)
        change(tags)
        ws.update_environment(name, description=container.description, tags=tags)
        ws.close()

    def archive_environment(self, name: str) -> None:
        ws = self._ws()
        ws.set_archived(name, None, True)
        ws.close()

    def versions(self, name: str) -> dict[str, bool]:
        ws = self._ws()
        found = {v.version: v.archived for v in ws.list_versions(name, ListView.ALL)}
        ws.close()
        return found


READ_ONLY = ("environmentType", "provisioningState", "latestVersion", "nextVersion")


class RestHand:
    """Through the emulator's ARM REST API: GET, change, PUT the whole body back (less its
    read-only fields, which the REST spec, and so the emulator, refuses in a request)."""

    def __init__(self, url: str):
        self.base = url.rstrip("/") + WS_PATH
        self.headers = {"Authorization": f"Bearer {TOKEN}"}

    def _put(self, path: str, change: Callable[[dict[str, Any]], None]) -> None:
        got = requests.get(self.base + path, params=API, headers=self.headers, timeout=10)
        got.raise_for_status()
        props = {k: v for k, v in got.json()["properties"].items() if k not in READ_ONLY}
        change(props)
        put = requests.put(
            self.base + path, params=API, headers=self.headers, json={"properties": props}, timeout=10
        )
        assert put.status_code in (200, 201), put.text

    def edit_version(self, name: str, version: str, change: Callable[[dict[str, Any]], None]) -> None:
        self._put(f"/environments/{name}/versions/{version}", change)

    def create_version(self, name: str, version: str, image: str) -> None:
        url = f"{self.base}/environments/{name}/versions/{version}"
        put = requests.put(
            url, params=API, headers=self.headers, json={"properties": {"image": image}}, timeout=10
        )
        assert put.status_code == 201, put.text

    def edit_container_tags(self, name: str, change: Callable[[dict[str, str]], None]) -> None:
        def edit(props: dict[str, Any]) -> None:
            props["tags"] = dict(props.get("tags") or {})
            change(props["tags"])

        self._put(f"/environments/{name}", edit)

    def archive_environment(self, name: str) -> None:
        self._put(f"/environments/{name}", _set("isArchived", True))

    def versions(self, name: str) -> dict[str, bool]:
        url = f"{self.base}/environments/{name}/versions"
        params = {**API, "listViewType": "All"}
        got = requests.get(url, params=params, headers=self.headers, timeout=10).json()
        return {v["name"]: bool(v["properties"].get("isArchived")) for v in got["value"]}


@dataclass
class Repo:
    root: Path
    git: git.Repo
    hand: Hand


@pytest.fixture(params=["local", "emulator"])
def repo(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """The sample repository committed in git, applied to a fresh workspace of either kind."""
    root = tmp_path / "repo"
    sample_repo(root)
    (root / ".gitignore").write_text(".envsync/\n")
    hand: Hand
    if request.param == "emulator":
        emulator: EmulatorHandle = request.getfixturevalue("emulator")
        azure_config(root, emulator.url)
        monkeypatch.setenv("ENVSYNC_ARM_TOKEN", TOKEN)
        hand = RestHand(emulator.url)
    else:
        hand = SqliteHand(root / ".envsync" / "workspace.db")
    made = git.Repo.init(root, initial_branch="main")
    commit(made, "seed")
    applied = run(root, "apply", "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.output
    return Repo(root, made, hand)


# -- the drift, made by hand ------------------------------------------------------------------


def _tags(change: Callable[[dict[str, str]], None]) -> Callable[[dict[str, Any]], None]:
    def edit(props: dict[str, Any]) -> None:
        props["tags"] = dict(props.get("tags") or {})
        change(props["tags"])

    return edit


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda props: props.__setitem__(key, value)


def _pruned_then_reverted(r: Repo) -> None:
    """`apply --prune` archives sklearn:1 once its YAML is gone; `git revert` brings it back."""
    r.git.index.remove(["environments/sklearn.yml"], working_tree=True)
    r.git.index.commit("drop sklearn")
    pruned = run(r.root, "apply", "--auto-approve", "--prune")
    assert pruned.exit_code == ExitCode.OK and "sklearn:1: archived" in pruned.output, pruned.output
    r.git.git.revert("HEAD", no_edit=True)


def _record(version: str) -> Callable[[dict[str, str]], None]:
    def edit(tags: dict[str, str]) -> None:
        found = last_applied.Record(
            **{k: v for k, v in json.loads(tags[last_applied.TAG]).items() if k != "v"}
        )
        tags[last_applied.TAG] = last_applied.Record(version, found.fingerprint, found.mutable).encode()

    return edit


HEALABLE: list[tuple[str, Callable[[Repo], None], list[tuple[str, str, str]]]] = [
    (
        "tag edited",
        lambda r: r.hand.edit_version("base-cpu", "1", _tags(lambda t: t.update(team="by-hand"))),
        [("edited", "base-cpu", "1")],
    ),
    (
        "description edited",
        lambda r: r.hand.edit_version("base-cpu", "1", _set("description", "edited in the studio")),
        [("edited", "base-cpu", "1")],
    ),
    (
        "tag added",
        lambda r: r.hand.edit_version("sklearn", "1", _tags(lambda t: t.update(owner="someone"))),
        [("edited", "sklearn", "1")],
    ),
    (
        "tag removed",
        lambda r: r.hand.edit_version("base-cpu", "1", _tags(lambda t: t.pop("team"))),
        [("edited", "base-cpu", "1")],
    ),
    (
        "managed version archived (explicit version)",
        lambda r: r.hand.edit_version("base-cpu", "1", _set("isArchived", True)),
        [("archived", "base-cpu", "1")],
    ),
    (
        "managed version archived (unversioned YAML)",
        lambda r: r.hand.edit_version("sklearn", "1", _set("isArchived", True)),
        [("archived", "sklearn", "1")],
    ),
    ("archived by --prune, then its YAML restored", _pruned_then_reverted, [("archived", "sklearn", "1")]),
    (
        "whole environment archived",
        lambda r: r.hand.archive_environment("sklearn"),
        [("archived", "sklearn", "1")],
    ),
    (
        "container record removed",
        lambda r: r.hand.edit_container_tags("torch", lambda t: t.pop(last_applied.TAG)),
        [("record", "torch", "1")],
    ),
    (
        "container record corrupted",
        lambda r: r.hand.edit_container_tags("torch", lambda t: t.update({last_applied.TAG: '{"v":1,"vers'})),
        [("record", "torch", "1")],
    ),
    (
        "container record naming another version",
        lambda r: r.hand.edit_container_tags("sklearn", _record("7")),
        [("record", "sklearn", "1")],
    ),
]


def drift_json(root: Path) -> tuple[int, dict[str, Any]]:
    result = run(root, "drift", "--format", "json")
    return result.exit_code, json.loads(result.output)


def findings(doc: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    return [(i["kind"], i["name"], i["version"]) for i in doc["items"]]


@pytest.mark.parametrize(("make", "expected"), [c[1:] for c in HEALABLE], ids=[c[0] for c in HEALABLE])
def test_healable_drift_is_healed_by_apply_refresh(
    repo: Repo, make: Callable[[Repo], None], expected: list[tuple[str, str, str]]
) -> None:
    assert run(repo.root, "drift").exit_code == ExitCode.OK
    make(repo)
    code, doc = drift_json(repo.root)
    assert code == ExitCode.CHANGES
    assert findings(doc) == expected
    assert all(i["healable"] for i in doc["items"])
    text = run(repo.root, "drift").output
    assert text.endswith(f"Heal: envsync apply --refresh -t {doc['target']}\n"), text
    healed = run(repo.root, "apply", "--refresh", "--auto-approve")
    assert healed.exit_code == ExitCode.OK, healed.output
    counted = [tuple(map(int, m)) for m in re.findall(r"\[(\d+)/(\d+)\]", healed.output)]
    assert counted and counted[-1][0] == counted[-1][1] == len(counted), healed.output
    after = run(repo.root, "drift")
    assert after.exit_code == ExitCode.OK, after.output
    plain = run(repo.root, "plan")
    assert plain.exit_code == ExitCode.OK and plain.output.endswith("No changes.\n"), plain.output
    assert repo.hand.versions("sklearn") == {"1": False}  # restored, never duplicated


REPORT_ONLY: list[tuple[str, Callable[[Repo], None], tuple[str, str, str], str]] = [
    (
        "version made by hand under a name git pins",
        lambda r: r.hand.create_version("base-cpu", "2", IMAGE.replace("20240709.v1", "20250101.v1")),
        ("unmanaged_version", "base-cpu", "2"),
        "git pins version 1, and apply never archives a version git does not define",
    ),
    (
        "orphan: its YAML deleted",
        lambda r: (
            r.git.index.remove(["environments/torch.yml"], working_tree=True),
            r.git.index.commit("rm"),
        ),
        ("orphan", "torch", "1"),
        "`envsync apply --prune` archives it (self-heal never prunes)",
    ),
]


@pytest.mark.parametrize(
    ("make", "expected", "reason"), [c[1:] for c in REPORT_ONLY], ids=[c[0] for c in REPORT_ONLY]
)
def test_report_only_drift_stays_reported_with_its_reason(
    repo: Repo, make: Callable[[Repo], None], expected: tuple[str, str, str], reason: str
) -> None:
    make(repo)
    code, doc = drift_json(repo.root)
    assert (code, findings(doc)) == (ExitCode.CHANGES, [expected])
    assert doc["items"][0]["healable"] is False and doc["heal_command"] is None
    healed = run(repo.root, "apply", "--refresh", "--auto-approve")
    assert healed.exit_code == ExitCode.OK, healed.output
    again = run(repo.root, "drift")
    assert again.exit_code == ExitCode.CHANGES
    assert f"({expected[0]}, report-only)" in again.output and reason in again.output
    assert "Nothing here is healable by apply" in again.output
    assert all(not archived for archived in repo.hand.versions(expected[1]).values())  # never touched


def test_ignored_tags_are_no_drift_and_survive_a_heal(repo: Repo) -> None:
    config = repo.root / "envsync.yaml"
    config.write_text((config.read_text() if config.exists() else "") + "ignore_tags: [costcenter]\n")
    commit(repo.git, "ignore costcenter")
    repo.hand.edit_version("base-cpu", "1", _tags(lambda t: t.update(costcenter="42")))
    assert run(repo.root, "drift").exit_code == ExitCode.OK
    repo.hand.edit_version("base-cpu", "1", _set("isArchived", True))
    repo.hand.edit_version("base-cpu", "1", _tags(lambda t: t.update(team="by-hand")))
    assert run(repo.root, "apply", "--refresh", "--auto-approve").exit_code == ExitCode.OK
    assert run(repo.root, "drift").exit_code == ExitCode.OK
    code, doc = drift_json(repo.root)
    assert code == ExitCode.OK and doc["items"] == []
    shown = json.loads(run(repo.root, "show", "base-cpu:1", "--format", "json").output)
    assert shown["tags"] == {"costcenter": "42", "team": "ml"}
