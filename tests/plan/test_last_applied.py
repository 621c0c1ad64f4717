"""The fast path (no version reads) is taken only when it is safe: every fallback, by table."""

from __future__ import annotations

from dataclasses import replace

import pytest

from envsync.plan import last_applied
from envsync.plan.last_applied import TAG, Record, record_for
from envsync.plan.model import Action
from envsync.plan.planner import plan
from envsync.workspace import Container
from tests.plan.test_planner import OPTS, observed, spec, version

GIT = spec("py", tags={"team": "ml"}, description="d")
GOOD = record_for(GIT, "3", frozenset()).encode()


def container(record: str | None = GOOD, latest: str = "3", **fields: object) -> Container:
    tags = {"owner": "someone"} | ({TAG: record} if record is not None else {})
    return Container("py", latest, str(int(latest) + 1), tags=tags, **fields)  # type: ignore[arg-type]


CASES = [
    ("record matches", GIT, container(), True),
    ("no container", GIT, None, False),
    ("no record", GIT, container(record=None), False),
    ("record not JSON", GIT, container(record="{oops"), False),
    ("record a JSON list", GIT, container(record="[1]"), False),
    ("record of another format", GIT, container(record=GOOD.replace('"v":1', '"v":9')), False),
    ("record missing a key", GIT, container(record='{"v":1,"version":"3"}'), False),
    ("a newer version made by hand", GIT, container(latest="4"), False),
    ("content changed in git", replace(GIT, image="other"), container(), False),
    ("tags changed in git", replace(GIT, tags={"team": "ai"}), container(), False),
    ("description changed in git", replace(GIT, description="new"), container(), False),
    ("explicit version differs", replace(GIT, version="4"), container(), False),
    (
        "explicit version matches",
        replace(GIT, version="3"),
        container(record=record_for(replace(GIT, version="3"), "3", frozenset()).encode()),
        True,
    ),
    ("archived container", GIT, container(archived=True), False),
    ("curated container", GIT, container(curated=True), False),
]


@pytest.mark.parametrize(("git", "found", "safe"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_fast_path_only_when_safe(git, found, safe) -> None:  # type: ignore[no-untyped-def]
    assert last_applied.unchanged(git, found, frozenset()) is safe


def test_ignored_tags_do_not_count() -> None:
    with_extra = replace(GIT, tags={"team": "ml", "costcenter": "1"})
    assert last_applied.unchanged(with_extra, container(), frozenset({"costcenter"}))


def test_record_round_trips() -> None:
    record = Record("3", "f" * 64, "m" * 32)
    assert last_applied.read(Container("py", "3", "4", tags={TAG: record.encode()})) == record


def test_planner_plans_noop_for_unchanged_without_versions() -> None:
    state = replace(observed(), containers={"py": container()}, unchanged=frozenset({"py"}))
    change = plan([GIT], state, OPTS).changes[0]
    assert (change.action, change.version) == (Action.NOOP, "3")


def test_planner_falls_back_when_not_unchanged() -> None:
    state = observed(version("3", tags={"team": "ml"}, description="d"))
    assert plan([GIT], state, OPTS).changes[0].action is Action.NOOP
    assert plan([replace(GIT, image="x")], state, OPTS).changes[0].action is Action.NEW_VERSION
