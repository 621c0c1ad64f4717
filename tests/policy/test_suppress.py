"""Inline suppressions: `# envsync: allow <rule> -- <why>` on the line, or alone just above it."""

from __future__ import annotations

from pathlib import Path

from tests.policy.conftest import loaded

E = "environments/e.yml"


def outcome(tmp_path: Path, files: dict[str, str], policy: str = "") -> tuple[list[str], list[str]]:
    """(active problems as "line:col rule|message", suppressed as "line:col rule: reason")."""
    result = loaded(tmp_path, files, policy)
    active = [f"{p.line}:{p.col} {p.rule or p.message}" for p in result.problems]
    suppressed = [f"{s.problem.line}:{s.problem.col} {s.problem.rule}: {s.reason}" for s in result.suppressed]
    return active, suppressed


def test_on_the_offending_line(tmp_path: Path) -> None:
    files = {
        E: "name: e\nimage: python:latest  # envsync: allow image-mutable-tag -- upstream has no other tag\n"
    }
    assert outcome(tmp_path, files) == ([], ["2:8 image-mutable-tag: upstream has no other tag"])


def test_alone_on_the_line_above(tmp_path: Path) -> None:
    files = {
        E: "name: e\n# envsync: allow image-mutable-tag, image-registry-allowed -- demo only\nimage: python:latest\n"
    }
    assert outcome(tmp_path, files) == ([], ["3:8 image-mutable-tag: demo only"])


def test_two_lines_above_is_too_far(tmp_path: Path) -> None:
    files = {E: "name: e\n# envsync: allow image-mutable-tag -- demo\n\nimage: python:latest\n"}
    assert outcome(tmp_path, files) == (["4:8 image-mutable-tag"], [])


def test_another_rule_is_not_suppressed(tmp_path: Path) -> None:
    files = {E: "name: e\nimage: python:latest  # envsync: allow image-digest-required -- later\n"}
    assert outcome(tmp_path, files) == (["2:8 image-mutable-tag"], [])


def test_in_a_dockerfile_above_the_from(tmp_path: Path) -> None:
    files = {
        E: "name: e\nbuild:\n  path: ctx\n",
        "environments/ctx/Dockerfile": "# envsync: allow image-mutable-tag -- rebuilt nightly on purpose\nFROM python\n",
    }
    assert outcome(tmp_path, files) == ([], ["2:6 image-mutable-tag: rebuilt nightly on purpose"])


def test_in_a_conda_file(tmp_path: Path) -> None:
    files = {
        E: "name: e\nimage: python:3.11.9\nconda_file: conda.yml\n",
        "environments/conda.yml": "dependencies:\n  - python=3.11\n  - numpy  # envsync: allow conda-unpinned -- solver picks\n",
    }
    assert outcome(tmp_path, files) == ([], ["3:5 conda-unpinned: solver picks"])


def test_without_a_reason_nothing_is_suppressed_and_the_comment_is_reported(tmp_path: Path) -> None:
    files = {E: "name: e\nimage: python:latest  # envsync: allow image-mutable-tag\n"}
    active, suppressed = outcome(tmp_path, files)
    assert suppressed == []
    assert active == [
        "2:8 image-mutable-tag",
        "2:23 suppression has no reason, so it suppresses nothing: add ' -- <why>' after the rule ids",
    ]


def test_an_unknown_rule_is_reported_even_where_nothing_was_found(tmp_path: Path) -> None:
    files = {E: "name: e\nimage: python:3.11.9  # envsync: allow image-mutable-tags -- typo\n"}
    assert outcome(tmp_path, files) == (
        ["2:23 suppression unknown rule 'image-mutable-tags' (did you mean 'image-mutable-tag'?)"],
        [],
    )


def test_a_suppressed_error_does_not_fail(tmp_path: Path) -> None:
    files = {
        E: "name: e\nimage: python:latest  # envsync: allow image-mutable-tag -- pinned by the base team\n"
    }
    result = loaded(tmp_path, files, "policy:\n  rules: {image-mutable-tag: error}\n")
    assert result.errors == () and len(result.suppressed) == 1
