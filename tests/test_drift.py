"""Drift detection over values: what changed outside git."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from envsync.plan import drift, drift_report, last_applied
from envsync.plan.drift import DriftKind
from envsync.plan.model import ObservedState
from envsync.plan.planner import PlanOptions
from envsync.spec.load import EnvironmentSpec
from envsync.workspace import FINGERPRINT_PROPERTY, RemoteVersion
from tests.plan.test_planner import ROOT, observed, spec, version

OPTS = PlanOptions(target="dev", root=ROOT)
GIT = spec("py", tags={"team": "ml"}, description="d")


def managed(v: str, **body: object):  # type: ignore[no-untyped-def]
    made = version(v, tags={"team": "ml"}, description="d", **body)  # type: ignore[arg-type]
    return made.with_body(properties={FINGERPRINT_PROPERTY: GIT.fingerprint})


def applied(*versions: RemoteVersion, spec: EnvironmentSpec = GIT) -> ObservedState:
    """`observed(...)` as apply leaves it: each container records its latest version."""
    state = observed(*versions)
    containers = {
        name: replace(
            c,
            tags={
                last_applied.TAG: last_applied.record_for(spec, c.latest_version or "", frozenset()).encode()
            },
        )
        for name, c in state.containers.items()
    }
    environments = {n: replace(e, container=containers[n]) for n, e in state.environments.items()}
    return replace(state, containers=containers, environments=environments)


CASES = [
    ("in sync", [GIT], applied(managed("1")), []),
    (
        "tags edited by hand",
        [GIT],
        applied(managed("1").with_body(tags={"team": "x"})),
        [(DriftKind.EDITED, "1")],
    ),
    (
        "description edited",
        [GIT],
        applied(managed("1").with_body(description="hand")),
        [(DriftKind.EDITED, "1")],
    ),
    (
        "version created by hand: git's content is no longer the latest",
        [GIT],
        applied(managed("1"), version("2", image="byhand")),
        [(DriftKind.MISSING, None), (DriftKind.UNMANAGED_VERSION, "2")],
    ),
    (
        "version created by hand under a pinned name",
        [replace(GIT, version="1")],
        applied(managed("1"), version("2", image="byhand")),
        [(DriftKind.UNMANAGED_VERSION, "2")],
    ),
    ("managed version archived", [GIT], applied(managed("1", archived=True)), [(DriftKind.ARCHIVED, "1")]),
    ("git content missing", [replace(GIT, image="new")], applied(managed("1")), [(DriftKind.MISSING, None)]),
    (
        "explicit version deleted",
        [replace(GIT, version="2")],
        applied(managed("1")),
        [(DriftKind.MISSING, "2")],
    ),
    (
        "explicit version holds other content",
        [replace(GIT, version="1", image="new")],
        applied(managed("1")),
        [(DriftKind.CONFLICT, "1")],
    ),
    ("orphan", [], applied(managed("1")), [(DriftKind.ORPHAN, "1")]),
    ("new environment not applied is no drift", [GIT], observed(), []),
    ("hand-made environments are not managed", [], observed(version("1", name="other")), []),
]


@pytest.mark.parametrize(("specs", "state", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_drift(specs, state, expected) -> None:  # type: ignore[no-untyped-def]
    report = drift.detect(specs, state, OPTS)
    assert [(i.kind, i.version) for i in report.items] == expected
    assert report.drifted is bool(expected)


def test_edited_item_shows_values_and_the_heal_command() -> None:
    report = drift.detect([GIT], applied(managed("1").with_body(tags={"team": "x", "extra": "y"})), OPTS)
    item = report.items[0]
    assert item.git["tags"] == {"team": "ml"} and item.workspace["tags"] == {"extra": "y", "team": "x"}
    assert item.values == (("tags.extra", "y", None), ("tags.team", "x", "ml"))
    out = drift_report.text(report)
    assert "! py:1  (edited, healable) tags.extra, tags.team differ from git: apply sets git's" in out
    assert '    ~ tags.team: "x" → "ml"' in out and '    - tags.extra: "y"' in out
    assert out.endswith(
        "Drift: 1 difference between git and dev: 1 healable, 0 report-only.\n"
        "Heal: envsync apply --refresh -t dev\n"
    )
    md = drift_report.markdown(report)
    assert "| `py` | 1 | edited | yes | tags.extra, tags.team differ" in md
    assert '`~ tags.team: "x" → "ml"`' in md
    assert md.endswith("To heal the 1 healable finding(s): `envsync apply --refresh -t dev`\n")
    doc = json.loads(drift_report.to_json(report))
    assert doc["drifted"] is True and doc["heal_command"] == "envsync apply --refresh -t dev"
    assert doc["items"][0]["healable"] is True
    assert doc["items"][0]["values"][1] == {"field": "tags.team", "workspace": "x", "git": "ml"}


def test_report_only_findings_say_why_and_no_heal_command() -> None:
    report = drift.detect([replace(GIT, version="1")], applied(managed("1"), version("2", image="h")), OPTS)
    out = drift_report.text(report)
    assert "(unmanaged_version, report-only) created outside envsync; git pins version 1" in out
    assert "apply never archives a version git does not define" in out
    assert out.endswith("Nothing here is healable by apply: each finding says what to do instead.\n")
    doc = json.loads(drift_report.to_json(report))
    assert doc["heal_command"] is None and doc["items"][0]["healable"] is False


def test_archives_are_never_attributed_to_anyone() -> None:
    report = drift.detect([GIT], applied(managed("1", archived=True)), OPTS)
    assert report.items[0].message == "archived while git defines it: apply restores it"
    assert "outside git" not in drift_report.text(report)
    assert "`~ archived: true → false`" in drift_report.markdown(report)


def test_pipes_in_values_do_not_break_the_markdown_table() -> None:
    report = drift.detect([GIT], applied(managed("1").with_body(description="a|b`c")), OPTS)
    row = next(line for line in drift_report.markdown(report).splitlines() if line.startswith("| `py`"))
    assert row.count(" | ") == 4 and '``~ description: "a\\|b`c" → "d"``' in row


RECORDS = [
    ("missing", {}, "missing"),
    ("unreadable", {last_applied.TAG: "{not json"}, "unreadable"),
    ("naming another version", {last_applied.TAG: last_applied.Record("7", "f", "m").encode()}, "wrong"),
    ("archived by prune", {last_applied.TAG: last_applied.archived("1").encode()}, "wrong"),
]


@pytest.mark.parametrize(("tags", "state"), [r[1:] for r in RECORDS], ids=[r[0] for r in RECORDS])
def test_a_bad_container_record_is_healable_drift(tags: dict[str, str], state: str) -> None:
    seen = observed(managed("1"))
    container = replace(seen.containers["py"], tags=tags)
    env = replace(seen.environments["py"], container=container)
    report = drift.detect([GIT], replace(seen, environments={"py": env}, containers={"py": container}), OPTS)
    assert [(i.kind, i.healable) for i in report.items] == [(DriftKind.RECORD, True)]
    assert f"last-applied record is {state}" in report.items[0].message


def test_a_good_record_and_an_imported_version_without_one_are_no_drift() -> None:
    seen = observed(managed("1"))
    good = {last_applied.TAG: last_applied.record_for(GIT, "1", frozenset()).encode()}
    container = replace(seen.containers["py"], tags=good)
    env = replace(seen.environments["py"], container=container)
    assert not drift.detect([GIT], replace(seen, environments={"py": env}), OPTS).drifted
    imported = observed(version("1", tags={"team": "ml"}, description="d"))
    assert not drift.detect([GIT], imported, OPTS).drifted


def test_ignored_tags_are_not_drift() -> None:
    options = replace(OPTS, ignore_tags=frozenset({"costcenter"}))
    state = applied(managed("1").with_body(tags={"team": "ml", "costcenter": "7"}))
    assert not drift.detect([GIT], state, options).drifted


def test_an_archived_environment_is_said_to_be_archived_as_a_whole() -> None:
    seen = applied(managed("1", archived=True))
    container = replace(seen.containers["py"], archived=True)
    env = replace(seen.environments["py"], container=container)
    report = drift.detect([GIT], replace(seen, containers={"py": container}, environments={"py": env}), OPTS)
    assert [i.message for i in report.items] == [
        "the environment is archived while git defines it: apply restores it"
    ]
