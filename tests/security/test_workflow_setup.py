"""The repository's own workflows follow docs/security.md: pull requests plan with a read-only
identity and never under pull_request_target; only main's workflows get the identity that
writes; each token gets the one write permission its workflow needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_workflows import WORKFLOWS, load, steps

WORKFLOW_DIR = Path(__file__).resolve().parents[2] / ".github" / "workflows"
# The write permission each workflow may have, besides id-token for azure/login.
WRITES = {
    "plan.yml": {"pull-requests"},
    "drift.yml": {"issues"},
    "apply.yml": set(),
    "ci.yml": set(),
    "docs.yml": {"pages"},  # its deploy job only
}


def triggers(doc: Any) -> set[str]:
    on = doc["on"]  # PyYAML reads the key `on` as the string "on" (it is not YAML 1.1's bool)
    return set(on) if isinstance(on, dict) else {on} if isinstance(on, str) else set(on)


def logins(doc: Any) -> list[str]:
    return [s["with"]["client-id"] for s in steps(doc) if s.get("uses", "").startswith("azure/login@")]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_workflow_runs_on_pull_request_target(path: Path) -> None:
    assert "pull_request_target" not in triggers(load(path)) and "workflow_run" not in triggers(load(path))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_each_workflow_writes_only_what_it_needs(path: Path) -> None:
    doc = load(path)
    granted = [
        doc["permissions"],
        *(job["permissions"] for job in doc["jobs"].values() if "permissions" in job),
    ]
    assert all(isinstance(p, dict) for p in granted), "write-all or read-all: name each permission"
    writes = {k for p in granted for k, v in p.items() if v == "write"} - {"id-token"}
    assert writes == WRITES[path.name]


def test_pull_requests_plan_with_the_read_only_identity() -> None:
    plan = load(WORKFLOW_DIR / "plan.yml")
    assert triggers(plan) == {"pull_request"}
    assert logins(plan) == ["${{ vars.AZURE_PLAN_CLIENT_ID }}"]
    assert plan["jobs"]["plan"]["if"] == "github.event.pull_request.head.repo.full_name == github.repository"


@pytest.mark.parametrize("name", ["apply.yml", "drift.yml"])
def test_the_writing_identity_serves_main_only(name: str) -> None:
    doc = load(WORKFLOW_DIR / name)
    assert triggers(doc) <= {"push", "schedule", "workflow_dispatch"}
    if "push" in triggers(doc):
        assert doc["on"]["push"] == {"branches": ["main"]}
    assert logins(doc) == ["${{ vars.AZURE_CLIENT_ID }}"]
