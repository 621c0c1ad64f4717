"""Snapshot tests of the three plan renderings, and the JSON contract."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from envsync.gitops import bodies
from envsync.plan import render, saved
from envsync.plan.model import Plan
from envsync.plan.planner import PlanOptions, plan
from envsync.spec.schemas import validator
from tests.plan.test_planner import CONDA, observed, spec, version

SNAPSHOTS = Path(__file__).parent / "snapshots"
ROOT = Path("/repo")


def sample_plan() -> Plan:
    desired = [
        spec("new-env", tags={"team": "ml"}, conda=CONDA),
        spec(
            "bumped",
            conda={**CONDA, "dependencies": ["python=3.11", {"pip": ["numpy==1.26.4", "pandas==2.2.0"]}]},
        ),
        spec("retagged", "2", tags={"team": "ai", "tier": "gold"}, description="Now described"),
        spec("pinned", "1", image="changed:1"),
        spec("same"),
        spec("shelved", tags={"team": "ml"}),
    ]
    state = observed(
        version(
            "1",
            name="bumped",
            conda_file="name: py\ndependencies:\n- python=3.10\n- pip:\n  - numpy==1.24.0\n",
        ),
        version("2", name="retagged", tags={"team": "ml", "old": "x"}),
        version("1", name="pinned"),
        version("1", name="same"),
        version("3", name="shelved", archived=True, tags={"team": "ai"}),
        version("4", name="gone", managed=True),
    )
    result = plan(desired, state, PlanOptions(target="dev", root=ROOT))
    return Plan(result.target, result.changes, commit="0123abc", created="2026-11-25T10:00:00+00:00")


def check_snapshot(name: str, actual: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("ENVSYNC_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual)
    assert actual == path.read_text(), f"{name} changed; ENVSYNC_UPDATE_SNAPSHOTS=1 rewrites it"


@pytest.mark.parametrize("verbose", [False, True])
def test_text_snapshot(verbose: bool) -> None:
    check_snapshot(f"plan{'-verbose' * verbose}.txt", render.text(sample_plan(), verbose=verbose))


def test_markdown_snapshot() -> None:
    check_snapshot("plan.md", render.markdown(sample_plan()))


def test_json_snapshot_and_schema() -> None:
    text = render.to_json(sample_plan())
    check_snapshot("plan.json", text)
    assert list(validator("plan").iter_errors(json.loads(text))) == []


def test_text_has_package_level_conda_diff_and_summary() -> None:
    out = render.text(sample_plan())
    assert "~ python 3.10 → 3.11" in out
    assert "~ numpy 1.24.0 → 1.26.4" in out
    assert "+ pandas==2.2.0" in out
    assert "Plan: 1 orphan, 1 to create, 1 new version, 1 to update, 1 to restore. 1 error." in out
    assert "same:1" not in out


def test_colour_only_when_asked() -> None:
    assert "\x1b[" not in render.text(sample_plan())
    assert "\x1b[" in render.text(sample_plan(), color=True)


def test_no_changes() -> None:
    result = plan([spec("same")], observed(version("1", name="same")), PlanOptions(root=ROOT))
    assert render.summary(result) == "No changes."


def test_markdown_is_the_whole_plan_and_a_comment_cuts_it_between_changes() -> None:
    many = plan(
        [spec(f"env-{i:04d}", tags={"k": "v" * 200}) for i in range(600)], observed(), PlanOptions(root=ROOT)
    )
    out = render.markdown(many)
    assert out.startswith("### envsync plan") and "**Plan: 0 orphans, 600 to create" in out
    assert out.count("<details>") == 600 and len(out) > bodies.MAX_BODY
    cut = bodies.fit(out, bodies.truncation_note("plan", artifact="envsync-plan-local"))
    assert len(cut) <= bodies.MAX_BODY and cut.count("<details>") == cut.count("</details>") > 100
    assert "entries not shown" in cut and "`envsync-plan-local`" in cut


def test_saved_plan_round_trips(tmp_path: Path) -> None:
    original = sample_plan()
    saved.write(original, tmp_path / "plan.json")
    assert saved.read(tmp_path / "plan.json") == original


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not a readable plan file"),
        ('{"format_version": 99}', "plan format version 99 is not one this envsync reads"),
        ('{"format_version": 1, "target": "x"}', "invalid plan at (top level)"),
    ],
)
def test_bad_saved_plans_are_refused(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "plan.json").write_text(content)
    with pytest.raises(Exception, match=message.replace("(", r"\(").replace(")", r"\)")):
        saved.read(tmp_path / "plan.json")


@pytest.mark.parametrize(
    ("pruning", "title", "tail"),
    [
        (render.Pruning(), "(orphan: archived only with --prune)", "1 orphan."),
        (render.Pruning(prune=True), "(orphan: will be archived)", "1 to archive."),
        (
            render.Pruning(prune=True, protected=frozenset({"gone"})),
            "(orphan: protected in envsync.yaml, kept)",
            "0 to archive (1 protected orphan kept).",
        ),
    ],
)
def test_orphans_say_what_apply_will_do_with_them(pruning: render.Pruning, title: str, tail: str) -> None:
    result = plan([], observed(version("4", name="gone", managed=True)), PlanOptions(root=ROOT))
    out = render.text(result, pruning=pruning)
    assert f"- gone:4  {title}" in out
    assert out.splitlines()[-1].startswith(f"Plan: {tail[:-1]}, ")  # what a prune archives comes first
