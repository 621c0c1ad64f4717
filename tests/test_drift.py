"""Drift detection over values: what changed outside git."""

from __future__ import annotations

from dataclasses import replace

import pytest

from envsync.plan import drift
from envsync.plan.drift import DriftKind
from envsync.plan.planner import PlanOptions
from envsync.workspace import FINGERPRINT_PROPERTY
from tests.plan.test_planner import ROOT, observed, spec, version

OPTS = PlanOptions(target="dev", root=ROOT)
GIT = spec("py", tags={"team": "ml"}, description="d")


def managed(v: str, **body: object):  # type: ignore[no-untyped-def]
    made = version(v, tags={"team": "ml"}, description="d", **body)  # type: ignore[arg-type]
    return made.with_body(properties={FINGERPRINT_PROPERTY: GIT.fingerprint})


CASES = [
    ("in sync", [GIT], observed(managed("1")), []),
    (
        "tags edited by hand",
        [GIT],
        observed(managed("1").with_body(tags={"team": "x"})),
        [(DriftKind.EDITED, "1")],
    ),
    (
        "description edited",
        [GIT],
        observed(managed("1").with_body(description="hand")),
        [(DriftKind.EDITED, "1")],
    ),
    (
        "version created by hand",
        [GIT],
        observed(managed("1"), version("2", image="byhand")),
        [(DriftKind.UNMANAGED_VERSION, "2")],
    ),
    ("managed version archived", [GIT], observed(managed("1", archived=True)), [(DriftKind.ARCHIVED, "1")]),
    ("git content missing", [replace(GIT, image="new")], observed(managed("1")), [(DriftKind.MISSING, None)]),
    ("orphan", [], observed(managed("1")), [(DriftKind.ORPHAN, "1")]),
    ("new environment not applied is no drift", [GIT], observed(), []),
    ("hand-made environments are not managed", [], observed(version("1", name="other")), []),
]


@pytest.mark.parametrize(("specs", "state", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_drift(specs, state, expected) -> None:  # type: ignore[no-untyped-def]
    report = drift.detect(specs, state, OPTS)
    assert [(i.kind, i.version) for i in report.items] == expected
    assert report.drifted is bool(expected)


def test_edited_item_shows_git_and_workspace() -> None:
    report = drift.detect([GIT], observed(managed("1").with_body(tags={"team": "x"})), OPTS)
    item = report.items[0]
    assert item.git["tags"] == {"team": "ml"} and item.workspace["tags"] == {"team": "x"}
    out = drift.text(report)
    assert "tags.team edited outside git" in out and "Drift: 1 difference" in out
    assert "| `py` | 1 | edited |" in drift.markdown(report)
    assert '"drifted": true' in drift.to_json(report)


def test_ignored_tags_are_not_drift() -> None:
    options = replace(OPTS, ignore_tags=frozenset({"costcenter"}))
    state = observed(managed("1").with_body(tags={"team": "ml", "costcenter": "7"}))
    assert not drift.detect([GIT], state, options).drifted
