"""A plan's policy findings: text and Markdown sections, and their JSON both ways (saved plans)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from envsync.plan.model import Plan
from envsync.spec.problems import Problem, Severity, Suppressed, problem_json, suppressed_json
from envsync.text import escape

MARKDOWN_ROWS = 50  # a comment has a size cap, and the plan's own changes must fit too


def text_lines(plan: Plan) -> list[str]:
    """`Policy (target):` and one line per finding, nothing when there are none. Suppressed
    findings are left out: they were reviewed where they are written (JSON lists them)."""
    if not plan.problems:
        return []
    return [f"Policy ({escape.terminal(plan.target)}):", *(f"  {line(p)}" for p in plan.problems), ""]


def line(problem: Problem) -> str:
    """`path:line:col: error: message [rule]`: the severity always shown, as in a plan it decides
    whether apply may run."""
    rule = f" [{problem.rule}]" if problem.rule else ""
    where = f"{problem.path}:{problem.line}:{problem.col}"
    return escape.terminal(f"{where}: {problem.severity.value}: {problem.message}{rule}")


def markdown(plan: Plan, *, limit: int = MARKDOWN_ROWS) -> str:
    """A `Policy` list for the pull-request comment, errors first, capped at `limit` rows."""
    if not plan.problems:
        return ""
    ordered = sorted(plan.problems, key=lambda p: p.severity is not Severity.ERROR)
    rows = [
        f"- {'❌' if p.severity is Severity.ERROR else '⚠️'} {escape.code(f'{p.path}:{p.line}:{p.col}')} "
        f"**{escape.markdown(p.rule or 'envsync')}**: {escape.markdown(p.message)}"
        for p in ordered[:limit]
    ]
    if len(ordered) > limit:
        rows.append(f"- … and {len(ordered) - limit} more: the full list is in the job log and plan.json")
    return "\n#### Policy\n\n" + "\n".join(rows) + "\n"


def summary(plan: Plan) -> str:
    """` 1 policy error.` for the plan's summary line (warnings do not block, so they are not
    counted there)."""
    errors = len(plan.policy_errors)
    return f" {errors} policy error{'s' * (errors != 1)}." if errors else ""


def to_json(plan: Plan) -> dict[str, Any]:
    return {
        "problems": [problem_json(p) for p in plan.problems],
        "suppressed": [suppressed_json(s) for s in plan.suppressed],
    }


def from_json(doc: Mapping[str, Any]) -> tuple[tuple[Problem, ...], tuple[Suppressed, ...]]:
    """A saved plan's findings (plans saved before policies existed have none)."""
    problems = tuple(_problem(p) for p in doc.get("problems", ()))
    suppressed = tuple(Suppressed(_problem(s), s["reason"]) for s in doc.get("suppressed", ()))
    return problems, suppressed


def _problem(doc: Mapping[str, Any]) -> Problem:
    return Problem(
        doc["path"], doc["line"], doc["col"], doc["message"], Severity(doc["severity"]), doc["rule"] or ""
    )
