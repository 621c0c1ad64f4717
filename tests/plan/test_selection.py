"""--name / --exclude: which environments a partial plan covers (pure)."""

from __future__ import annotations

import json

from envsync.plan import render
from envsync.plan.model import Action
from envsync.plan.planner import PlanOptions, plan
from envsync.plan.selection import NameFilter
from envsync.spec.schemas import validator
from tests.plan.test_planner import ROOT, observed, spec, version


def test_globs_select_and_exclude_wins() -> None:
    select = NameFilter(("sk*", "xgb"), exclude=("sk-old",))
    assert [n for n in ("sk-new", "sk-old", "xgb", "xgboost") if select.matches(n)] == ["sk-new", "xgb"]
    assert select.exact is None  # a glob: which names it matches is known only from a listing
    assert NameFilter(("a", "b"), exclude=("b",)).exact == frozenset({"a"})
    assert NameFilter().partial is False and NameFilter(exclude=("a",)).exact is None


def test_partial_plan_plans_only_what_it_selects_and_finds_no_orphan_elsewhere() -> None:
    state = observed(version("1", "gone", managed=True), version("1", "gone-too", managed=True))
    options = PlanOptions(root=ROOT, select=NameFilter(("new", "gone")))
    result = plan([spec("new"), spec("other")], state, options)
    assert [(c.name, c.action) for c in result.changes] == [("gone", Action.ORPHAN), ("new", Action.CREATE)]
    everything = plan([spec("new"), spec("other")], state, PlanOptions(root=ROOT))
    assert len(everything.changes) == 4


def test_partial_plan_says_so_in_text_markdown_json_and_summary() -> None:
    options = PlanOptions(root=ROOT, select=NameFilter(("new",), exclude=("n*x",)))
    result = plan([spec("new")], observed(), options)
    assert "Partial plan (--name new --exclude 'n*x')" in render.text(result)
    assert "> [!WARNING]\n> Partial plan (`--name new --exclude 'n*x'`)" in render.markdown(result)
    assert render.summary(result).endswith(" Partial: --name new --exclude 'n*x'.")
    doc = json.loads(render.to_json(result))
    validator("plan").validate(doc)
    assert doc["selection"] == {"names": ["new"], "exclude": ["n*x"]}
    assert (
        json.loads(render.to_json(plan([spec("new")], observed(), PlanOptions(root=ROOT))))["selection"]
        is None
    )
