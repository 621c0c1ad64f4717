"""A build context in a plan, as files (pure rendering)."""

from __future__ import annotations

from envsync.plan import context_lines
from envsync.plan.model import ContextFiles

OLD = {"context": "a" * 64, "dockerfile_path": "Dockerfile", "path": "environments/torch"}
NEW = {"context": "b" * 64, "dockerfile_path": "docker/gpu.Dockerfile", "path": "environments/torch"}


def test_files_are_sorted_capped_and_the_digest_is_a_detail() -> None:
    many = ContextFiles(
        added=tuple(f"f{i:02d}.py" for i in range(25)), modified=("Dockerfile",), basis="commit c"
    )
    lines = [str(line) for line in context_lines.changed(OLD, NEW, many)]
    assert lines[0] == "~ build: environments/torch, files changed since commit c:"
    assert lines[1:3] == ["  ~ Dockerfile", "  + f00.py"]
    assert "    and 6 more" in lines
    assert f"  (context {'a' * 12} → {'b' * 12})" in lines
    assert lines[-1] == "~ build.dockerfile_path: Dockerfile → docker/gpu.Dockerfile"


def test_unknown_files_and_remote_contexts_say_so() -> None:
    unknown = ContextFiles(unknown="version 3 was not created by envsync from git")
    lines = [str(line) for line in context_lines.changed(OLD, {**OLD, "context": "c" * 64}, unknown)]
    assert lines[:2] == [
        "~ build: environments/torch",
        "  # its files cannot be listed: version 3 was not created by envsync from git",
    ]
    remote = {"context": "https://example.invalid/ctx", "dockerfile_path": "Dockerfile"}
    listed = list(context_lines.listing(remote, None, "+"))
    assert listed == [
        "+ build: a remote context (its files cannot be compared) (context https://example.invalid/ctx)"
    ]


def test_a_non_default_dockerfile_is_always_shown() -> None:
    assert "+ build.dockerfile_path: docker/gpu.Dockerfile" in list(context_lines.listing(NEW, None, "+"))
    assert not any("dockerfile_path" in line for line in context_lines.listing(OLD, None, "+"))
