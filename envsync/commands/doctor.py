"""doctor: a preflight of everything a plan and an apply need, one line per check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

from envsync.commands.common import App, echo_retry
from envsync.errors import EnvsyncError, ExitCode
from envsync.http.redact import one_line, redact
from envsync.text import escape
from envsync.workspace.preflight import Check, failed, local_store, passed

if TYPE_CHECKING:
    from envsync.config import Target

MARKS = {True: "✓", False: "✗"}


@click.command("doctor")
@click.option("-t", "--target", help="Target from envsync.yaml (default: the default target).")
@click.option("--all-targets", is_flag=True, help="Check every configured target.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def doctor_cmd(app: App, target: str | None, all_targets: bool, fmt: str) -> ExitCode:
    """Check that a plan and an apply can run: config, git, credential, ARM, the workspace or
    registry, the principal's permissions there, its storage. Exit 1 when a check fails.

    Read-only: nothing is written anywhere. Each failed check says what to do.

    Example: envsync doctor -t prod    |    envsync doctor --all-targets --format json
    """
    repository = list(_repository(app))
    sections: list[tuple[str, list[Check]]] = [("repository", repository)]
    if all(c.ok for c in repository):
        names = app.config.target_names() if all_targets else [target]
        sections += [_target(app, name) for name in names]
    ok = all(c.ok for _, checks in sections for c in checks)
    click.echo(_json(sections, ok) if fmt == "json" else _text(sections), nl=False)
    return ExitCode.OK if ok else ExitCode.ERROR


def _repository(app: App) -> Iterator[Check]:
    try:
        config = app.config
    except EnvsyncError as e:
        yield failed("config", str(e), "fix envsync.yaml where the message points")
        return
    where = config.source.name if config.source else "no envsync.yaml (defaults: the local workspace)"
    yield passed("config", f"{where}: {len(config.targets)} target{'s' * (len(config.targets) != 1)}")
    snapshot = app.git
    if snapshot is None:
        yield failed("git", f"{app.root} is not in a git repository", "run envsync in one (or git init)")
    elif snapshot.head is None:
        yield failed("git", f"{snapshot.top}: no commit yet", "commit the environment files")
    else:
        yield passed("git", f"{snapshot.top} at {snapshot.head[:12]}")


def _target(app: App, name: str | None) -> tuple[str, list[Check]]:
    try:
        target = app.config.target(name)
    except EnvsyncError as e:
        return (name or "?", [failed("target", str(e), "name a target envsync.yaml defines")])
    if target.kind == "local":
        assert target.path is not None
        return (target.describe(), [local_store(target.path)])
    return (target.describe(), list(_azure(target)))


def _azure(target: Target) -> Iterator[Check]:
    from envsync.workspace.azure.preflight import azure_checks
    from envsync.workspace.azure.workspace import AzureMLWorkspace
    from envsync.workspace.factory import open_workspace

    try:
        workspace = open_workspace(target, on_retry=echo_retry)
    except EnvsyncError as e:
        yield failed("target", str(e))
        return
    assert isinstance(workspace, AzureMLWorkspace)
    try:
        yield from azure_checks(workspace, registry=target.kind == "registry")
    finally:
        workspace.close()


def _text(sections: list[tuple[str, list[Check]]]) -> str:
    lines: list[str] = []
    for title, checks in sections:
        lines.append(_safe(title))
        for check in checks:
            fix = f" → {_safe(check.fix)}" if check.fix else ""
            lines.append(f"  {MARKS[check.ok]} {check.name}: {_safe(check.detail)}{fix}")
    failures = sum(not c.ok for _, checks in sections for c in checks)
    lines.append("All checks passed." if not failures else f"{failures} check{'s' * (failures != 1)} failed.")
    return "\n".join(lines) + "\n"


def _json(sections: list[tuple[str, list[Check]]], ok: bool) -> str:
    doc = {
        "format_version": 1,
        "ok": ok,
        "sections": [{"title": t, "checks": [c.doc() for c in checks]} for t, checks in sections],
    }
    return json.dumps(doc, indent=2) + "\n"


def _safe(text: str) -> str:
    """One line, no credentials, no terminal control characters (endpoint and repository text)."""
    return escape.terminal(one_line(redact(text), 700))
