"""The applier in process, one test per outcome, against a real SQLite workspace. `Racing`
wraps it to do what a concurrent apply or a person would do at one precise point: just
before a given workspace call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from envsync.apply.applier import ApplyOptions, apply
from envsync.apply.bodies import version_body
from envsync.apply.result import ApplyResult, Outcome
from envsync.errors import ConflictError, WorkspaceError
from envsync.plan.last_applied import TAG
from envsync.plan.model import Action, Plan
from envsync.plan.observe import observe
from envsync.plan.planner import PlanOptions, plan
from envsync.spec.model import EnvironmentSpec
from envsync.workspace import FINGERPRINT_PROPERTY, ListView, VersionBody
from envsync.workspace.local.workspace import LocalWorkspace

ROOT = Path("/repo")
IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:1"
ONE_AT_A_TIME = ApplyOptions(concurrency=1, prune=True)


def spec(name: str = "py", version: str | None = None, **fields: Any) -> EnvironmentSpec:
    fields.setdefault("image", IMAGE)
    return EnvironmentSpec(name=name, source=ROOT / "environments" / f"{name}.yml", version=version, **fields)


def body_of(s: EnvironmentSpec, **changes: Any) -> VersionBody:
    made = version_body(s, properties={FINGERPRINT_PROPERTY: s.fingerprint})
    return replace(made, **changes)


class Racing:
    """A workspace that runs `hooks[method]` once, just before the first call of `method`."""

    def __init__(self, inner: LocalWorkspace, **hooks: Callable[[], None]):
        self.inner, self.hooks = inner, dict(hooks)
        self.calls: list[str] = []

    def __getattr__(self, method: str) -> Any:
        real = getattr(self.inner, method)
        if not callable(real):
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(method)
            hook = self.hooks.pop(method, None)
            if hook is not None:
                hook()
            return real(*args, **kwargs)

        return call


@pytest.fixture
def ws(tmp_path: Path) -> LocalWorkspace:
    return LocalWorkspace(tmp_path / "workspace.db")


def planned(ws: LocalWorkspace, specs: Sequence[EnvironmentSpec]) -> Plan:
    return plan(specs, observe(ws, specs, refresh=True), PlanOptions(root=ROOT))


def applied(workspace: Any, result: Plan, specs: Sequence[EnvironmentSpec]) -> ApplyResult:
    return apply(result, workspace, specs, ONE_AT_A_TIME)


def outcomes(result: ApplyResult) -> list[tuple[str, str | None, Outcome]]:
    return [(r.change.name, r.change.version, r.outcome) for r in result.results]


def test_created(ws: LocalWorkspace) -> None:
    specs = [spec()]
    result = applied(ws, planned(ws, specs), specs)
    assert outcomes(result) == [("py", "1", Outcome.DONE)]
    found = ws.get_version("py", "1")
    assert found is not None and specs[0].matches(found.body.content())
    container = ws.get_environment("py")
    assert container is not None and TAG in container.tags


def test_already_there_when_another_apply_created_it_first(ws: LocalWorkspace) -> None:
    specs = [spec()]
    result = planned(ws, specs)
    racer = Racing(ws, list_versions=lambda: ws.create_version("py", "1", body_of(specs[0])))
    assert outcomes(applied(racer, result, specs)) == [("py", "1", Outcome.ALREADY)]
    assert "create_version" not in racer.calls
    assert [v.version for v in ws.list_versions("py", ListView.ALL)] == ["1"]


def test_updated(ws: LocalWorkspace) -> None:
    ws.create_version("py", "1", body_of(spec(), tags={"team": "a"}))
    specs = [spec(tags={"team": "b"})]
    result = planned(ws, specs)
    assert [c.action for c in result.changes] == [Action.UPDATE]
    assert outcomes(applied(ws, result, specs)) == [("py", "1", Outcome.DONE)]
    found = ws.get_version("py", "1")
    assert found is not None and dict(found.body.tags) == {"team": "b"}


def test_stale_when_its_version_was_edited_by_hand_after_the_plan(ws: LocalWorkspace) -> None:
    ws.create_version("py", "1", body_of(spec()))
    specs = [spec(tags={"team": "b"})]
    result = planned(ws, specs)
    ws.update_version("py", "1", description="by hand", tags={"owner": "me"})
    assert outcomes(applied(ws, result, specs)) == [("py", "1", Outcome.STALE)]
    found = ws.get_version("py", "1")
    assert found is not None and found.body.description == "by hand"  # nothing applied


def test_stale_when_a_newer_version_appeared_before_a_new_auto_numbered_one(ws: LocalWorkspace) -> None:
    ws.create_version("py", "1", body_of(spec()))
    specs = [spec(image=f"{IMAGE}-new")]
    result = planned(ws, specs)
    assert [(c.action, c.version) for c in result.changes] == [(Action.NEW_VERSION, "2")]
    ws.create_version("py", "3", body_of(spec(image="by-hand")))
    [stale] = applied(ws, result, specs).results
    assert stale.outcome is Outcome.STALE and "latest version changed" in stale.message
    assert ws.get_version("py", "2") is None


def test_stale_when_the_yaml_changed_after_the_plan(ws: LocalWorkspace) -> None:
    result = planned(ws, [spec()])
    [stale] = applied(ws, result, [spec(image=f"{IMAGE}-edited")]).results
    assert stale.outcome is Outcome.STALE and "its YAML changed" in stale.message


def test_conflict_when_the_version_holds_other_content(ws: LocalWorkspace) -> None:
    specs = [spec(version="2")]
    result = planned(ws, specs)
    ws.create_version("py", "2", body_of(spec(image="other")))
    assert outcomes(applied(ws, result, specs)) == [("py", "2", Outcome.CONFLICT)]
    found = ws.get_version("py", "2")
    assert found is not None and found.body.image == "other"  # never overwritten


def test_race_lost_to_other_content_between_the_check_and_the_write(ws: LocalWorkspace) -> None:
    specs = [spec()]
    result = planned(ws, specs)
    racer = Racing(ws, create_version=lambda: ws.create_version("py", "1", body_of(spec(image="theirs"))))
    [lost] = applied(racer, result, specs).results
    assert lost.outcome is Outcome.CONFLICT and "exists with other content" in lost.message
    found = ws.get_version("py", "1")
    assert found is not None and found.body.image == "theirs"


def test_race_lost_to_the_same_content_counts_as_already_done(ws: LocalWorkspace) -> None:
    """A service that answers 409 to the loser of two identical creates: the version holds the
    planned content, so the change is done."""
    specs = [spec()]
    result = planned(ws, specs)

    def theirs_then_409() -> None:
        ws.create_version("py", "1", body_of(specs[0]))
        raise ConflictError("Environment py with version 1 is already registered and cannot be changed.")

    racer = Racing(ws, create_version=theirs_then_409)
    assert outcomes(applied(racer, result, specs)) == [("py", "1", Outcome.ALREADY)]


def test_failed_when_the_workspace_refuses(ws: LocalWorkspace) -> None:
    specs = [spec(), spec("other")]
    result = planned(ws, specs)

    def refuse() -> None:
        raise WorkspaceError("PUT environments/other/versions/1: 500 InternalServerError: boom")

    racer = Racing(ws, create_version=refuse)  # the first create: "other"'s, in name order
    got = outcomes(applied(racer, result, specs))
    assert got == [("other", "1", Outcome.FAILED), ("py", "1", Outcome.DONE)]
    assert ws.get_environment("other") is None


def test_failed_when_read_back_with_other_content(ws: LocalWorkspace) -> None:
    specs = [spec()]
    result = planned(ws, specs)

    class Lying(Racing):
        def get_version(self, name: str, version: str) -> Any:
            found = self.inner.get_version(name, version)
            return found.with_body(image="not-what-was-sent") if found is not None else None

    [failed] = applied(Lying(ws), result, specs).results
    assert failed.outcome is Outcome.FAILED and "different content" in failed.message


def test_a_moved_version_already_holding_the_result_is_done_not_stale(ws: LocalWorkspace) -> None:
    ws.create_version("py", "1", body_of(spec()))
    specs = [spec(tags={"team": "b"})]
    result = planned(ws, specs)
    # Someone edits the tags just before the re-read, then another apply sets git's.
    racer = Racing(
        ws,
        list_versions=lambda: ws.update_version("py", "1", description=None, tags={"x": "y"}),
        get_version=lambda: ws.update_version("py", "1", description=None, tags={"team": "b"}),
    )
    assert outcomes(applied(racer, result, specs)) == [("py", "1", Outcome.ALREADY)]
    assert "update_version" not in racer.calls


def test_the_changes_of_one_apply_never_make_each_other_stale(ws: LocalWorkspace) -> None:
    for i in range(3):
        ws.create_version("gone", str(i + 1), body_of(spec("gone", image=f"{IMAGE}-{i}")))
    ws.create_version("mix", "1", body_of(spec("mix")))
    # Version 10 (pinned) is created first and becomes the latest; the auto-numbered change
    # rests on version 1 being the latest, and this apply's own version 10 does not count.
    specs = [spec("mix", version="10", image=f"{IMAGE}-10"), spec("mix", image=f"{IMAGE}-auto")]
    result = planned(ws, specs)
    assert [(c.name, c.action, c.version) for c in result.changes] == [
        ("gone", Action.ORPHAN, "1"),
        ("gone", Action.ORPHAN, "2"),
        ("gone", Action.ORPHAN, "3"),
        ("mix", Action.NEW_VERSION, "10"),
        ("mix", Action.NEW_VERSION, "2"),
    ]
    got = outcomes(applied(ws, result, specs))
    assert [o for _, _, o in got] == [Outcome.DONE] * 5, got
    again = planned(ws, specs)
    assert not again.has_changes and not again.pending


def test_the_record_names_the_latest_version(ws: LocalWorkspace) -> None:
    """A killed run created pinned version 2 and wrote no record; the re-run creates version 1
    (now the latest), then confirms version 2, whose record must not replace version 1's."""
    specs = [spec("multi", version="1"), spec("multi", version="2", image=f"{IMAGE}-2")]
    ws.create_version("multi", "2", body_of(specs[1]))
    result = planned(ws, specs)
    assert [(c.version, c.action, c.record_stale) for c in result.pending] == [
        ("1", Action.NEW_VERSION, False),
        ("2", Action.NOOP, True),
    ]
    assert not applied(ws, result, specs).failed
    container = ws.get_environment("multi")
    assert container is not None and container.latest_version == "1"
    assert '"version":"1"' in container.tags[TAG]
    assert not planned(ws, specs).pending
