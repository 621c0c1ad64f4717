"""A plan's policy findings: rendered in text and Markdown, counted in the summary, kept by saved
plans, and refused by apply (pure values, no workspace)."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsync.apply.applier import ApplyOptions, apply
from envsync.errors import EnvsyncError
from envsync.plan import findings, render, saved
from envsync.plan.model import Plan
from envsync.spec.problems import Problem, Severity, Suppressed
from envsync.workspace.local.workspace import LocalWorkspace

ERROR = Problem("environments/a.yml", 2, 8, "moving tag", Severity.ERROR, "image-mutable-tag")
WARNING = Problem("environments/b.yml", 5, 7, "not pinned", Severity.WARNING, "pip-unpinned")
QUIET = Suppressed(
    Problem("environments/c.yml", 3, 8, "moving tag", Severity.ERROR, "image-mutable-tag"), "demo"
)
PLAN = Plan("prod", (), problems=(ERROR, WARNING), suppressed=(QUIET,))


def test_text_has_a_policy_section_and_counts_errors() -> None:
    assert render.text(PLAN) == (
        "Target: prod\n\n"
        "Policy (prod):\n"
        "  environments/a.yml:2:8: error: moving tag [image-mutable-tag]\n"
        "  environments/b.yml:5:7: warning: not pinned [pip-unpinned]\n\n"
        "No changes. 1 policy error.\n"
    )
    assert findings.text_lines(Plan("dev", (), suppressed=(QUIET,))) == []  # suppressed: JSON only


def test_markdown_lists_errors_first_and_caps_the_list() -> None:
    many = Plan("prod", (), problems=(WARNING,) * 3 + (ERROR,))
    text = findings.markdown(many, limit=2)
    assert text.index("image-mutable-tag") < text.index("pip-unpinned")
    assert text.endswith("- … and 2 more: the full list is in the job log and plan.json\n")


def test_saved_plans_keep_findings(tmp_path: Path) -> None:
    saved.write(PLAN, tmp_path / "plan.json")
    back = saved.read(tmp_path / "plan.json")
    assert (back.problems, back.suppressed) == (PLAN.problems, PLAN.suppressed)


def test_apply_refuses_a_plan_with_policy_errors_and_accepts_warnings(tmp_path: Path) -> None:
    workspace = LocalWorkspace(tmp_path / "ws.db")
    with pytest.raises(
        EnvsyncError, match="breaks target prod's policy .*image-mutable-tag at environments/a.yml:2"
    ):
        apply(PLAN, workspace, (), ApplyOptions())
    assert apply(Plan("dev", (), problems=(WARNING,)), workspace, (), ApplyOptions()).results == ()
