"""envsync github: post plans and drift reports to GitHub, and compose what a CI run posts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from envsync.commands.common import App
from envsync.commands.paths import RootFile, RootPath
from envsync.errors import EnvsyncError, ExitCode
from envsync.text import escape

_BODY_FILE = RootFile("r", encoding="utf-8")
_ARTIFACT = click.option(
    "--artifact", metavar="NAME", help="The workflow artifact holding the whole report (named when cut)."
)


@click.group("github")
def github_group() -> None:
    """Post plans and drift reports to GitHub (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL).

    Each report carries a hidden marker per target, so a rerun replaces it instead of adding one.
    Only comments and issues the token's own account wrote are ever edited
    (ENVSYNC_GITHUB_AUTHOR names that account when the token cannot tell: a GitHub App's <slug>[bot]).
    """


def _marker_target(app: App, target: str | None) -> str:
    """The name `envsync plan -t` would use: --target, else ENVSYNC_TARGET, else default_target."""
    from envsync.errors import ConfigError

    try:
        config = app.config
    except ConfigError:
        # envsync.yaml is broken, and that failure must still replace the target's comment.
        name = target or os.environ.get("ENVSYNC_TARGET") or _default_target(app.root)
        if name:
            return name
        raise
    return str(config.target(target).name)


def _default_target(root: Path) -> str | None:
    """default_target read from an envsync.yaml that is valid YAML but not a valid config."""
    import yaml

    from envsync.content.fingerprint import safe_load

    try:
        doc = safe_load((root / "envsync.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    found = doc.get("default_target", "local") if isinstance(doc, dict) else "local"
    return found if isinstance(found, str) and found else None


def _note(what: str, artifact: str | None) -> Any:
    from envsync.gitops import actions, bodies

    return bodies.truncation_note(what, artifact=artifact, run_url=actions.run_url())


@github_group.command("comment")
@click.option("--pr", type=click.IntRange(1), required=True, help="Pull request number.")
@click.option("--body-file", type=_BODY_FILE, required=True, help="Markdown to post ('-': stdin).")
@click.option("-t", "--target", help="Target the plan is for (one comment per target).")
@_ARTIFACT
@click.pass_obj
def github_comment_cmd(
    app: App, pr: int, body_file: Any, target: str | None, artifact: str | None
) -> ExitCode:
    """Create or update the plan comment on a pull request.

    Example: envsync github comment --pr 7 --body-file plan.md --artifact envsync-plan-prod
    """
    from envsync.gitops import github

    marker = github.plan_marker(_marker_target(app, target))
    client = github.GitHub.from_env()
    done = client.upsert_comment(pr, body_file.read(), marker=marker, note=_note("plan", artifact))
    click.echo(escape.terminal(f"{done.action.value} comment {done.url}"))
    return ExitCode.OK


@github_group.command("issue")
@click.option("--title", help="Issue title (required unless --close).")
@click.option("--body-file", type=_BODY_FILE, help="Markdown body ('-': stdin); with --close, a comment.")
@click.option("-t", "--target", help="Target the drift report is for (one issue per target).")
@click.option("--close", is_flag=True, help="Drift is clean: close the open drift issue, if any.")
@_ARTIFACT
@click.pass_obj
def github_issue_cmd(
    app: App, title: str | None, body_file: Any, target: str | None, close: bool, artifact: str | None
) -> ExitCode:
    """Open or update the drift issue (label envsync-drift), or close it with --close.

    Example: envsync github issue --title "Drift in prod" --body-file drift.md -t prod
    """
    from envsync.gitops import github

    if not close and (title is None or body_file is None):
        raise click.UsageError("--title and --body-file are required (unless --close)")
    name = _marker_target(app, target)
    body = body_file.read() if body_file is not None else ""
    client = github.GitHub.from_env()
    note = _note("drift report", artifact)
    done = client.upsert_issue(title or "", body, marker=github.drift_marker(name), close=close, note=note)
    if done.url is None:
        click.echo(escape.terminal(f"no open drift issue for target {name}: nothing to close"))
    else:
        click.echo(escape.terminal(f"{done.action.value} issue {done.url}"))
    return ExitCode.OK


@github_group.command("report")
@click.option("--command", "command", type=click.Choice(["plan", "drift"]), required=True)
@click.option(
    "--body-file",
    type=RootPath(dir_okay=False, path_type=Path),
    required=True,
    help="The command's Markdown report (may be missing when the command failed).",
)
@click.option("--exit-code", type=click.IntRange(0), default=0, help="The command's exit code.")
@click.option(
    "--log-file",
    type=RootPath(dir_okay=False, exists=True, path_type=Path),
    help="The command's stderr: its problems and error, for the failure section.",
)
@click.option("-t", "--target", help="Target the report is for.")
@_ARTIFACT
@click.pass_obj
def github_report_cmd(
    app: App,
    command: str,
    body_file: Path,
    exit_code: int,
    log_file: Path | None,
    target: str | None,
    artifact: str | None,
) -> ExitCode:
    """Print the Markdown a CI run posts: the report, or, when the command failed (exit code
    other than 0 or 2), what failed and where, with file:line links at the commit.

    Example: envsync github report --command plan --body-file plan.md --exit-code 1 --log-file plan.log
    """
    from envsync.gitops import actions, reports

    failed = exit_code not in (0, 2)
    if not body_file.is_file() and not failed:
        raise EnvsyncError(f"{body_file}: no such report (the command exited with {exit_code})")
    outcome = reports.Outcome(
        command=command,
        target=_marker_target(app, target),
        exit_code=exit_code,
        report=body_file.read_text(encoding="utf-8") if body_file.is_file() else "",
        log=log_file.read_text(encoding="utf-8", errors="replace").splitlines() if log_file else (),
        commit=actions.head_commit(),
    )
    click.echo(reports.compose(outcome, artifact=artifact, env=os.environ), nl=False)
    return ExitCode.OK
