"""Observation against a real local workspace: what is read, and the early listing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from envsync.errors import WorkspaceError
from envsync.plan.observe import Early, observe
from envsync.workspace import Container, ListView, VersionBody
from envsync.workspace.local.workspace import LocalWorkspace


class Counting(LocalWorkspace):
    """A real SQLite workspace that counts the calls observation makes."""

    def __init__(self, path: Path):
        super().__init__(path)
        self.calls: list[str] = []

    def list_environments(self, view: ListView = ListView.ACTIVE) -> Iterator[Container]:
        self.calls.append("list")
        return super().list_environments(view)

    def get_environment(self, name: str) -> Container | None:
        self.calls.append(f"get {name}")
        return super().get_environment(name)


@pytest.fixture
def workspace(tmp_path: Path) -> Counting:
    ws = Counting(tmp_path / "ws.db")
    for name in ("a", "b", "c"):
        ws.create_version(name, "1", VersionBody(image=f"{name}:1"))
    ws.calls.clear()
    return ws


def test_a_small_selection_gets_its_containers_by_name(workspace: Counting) -> None:
    state = observe(workspace, only=frozenset({"a", "gone"}), concurrency=2)
    assert sorted(workspace.calls) == ["get a", "get gone"]
    assert set(state.containers) == {"a"} and set(state.environments) == {"a"}


def test_a_larger_selection_lists_once(workspace: Counting) -> None:
    state = observe(workspace, only=frozenset({"a", "b", "c"}), concurrency=2)
    assert workspace.calls == ["list"]
    assert set(state.environments) == {"a", "b", "c"}


def test_an_early_listing_is_used_instead_of_listing_again(workspace: Counting) -> None:
    early = Early(lambda: list(workspace.list_environments(ListView.ALL)))
    state = observe(workspace, listed=early)
    assert workspace.calls == ["list"]  # the early one
    assert {c.name for c in state.containers.values() if not c.curated} == {"a", "b", "c"}


def test_an_early_listing_raises_its_error_where_it_is_used(workspace: Counting) -> None:
    def broken(view: ListView = ListView.ACTIVE) -> Iterator[Container]:
        raise WorkspaceError("GET environments: 401 AuthenticationFailed")

    workspace.list_environments = broken  # type: ignore[method-assign]
    early = Early(lambda: list(workspace.list_environments(ListView.ALL)))
    with pytest.raises(WorkspaceError, match="401"):
        observe(workspace, listed=early)


def test_refresh_reads_every_managed_environment_without_specs(workspace: Counting) -> None:
    state = observe(workspace, refresh=True, exclude=frozenset({"b"}))
    assert set(state.environments) == {"a", "c"}  # curated and excluded ones are never read
    assert [v.version for v in state.environments["a"].versions] == ["1"]
