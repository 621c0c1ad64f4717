"""validate, the emulator, and the GitHub reporting commands."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import click

from envsync.commands.common import (
    App,
    with_references,
)
from envsync.errors import ExitCode

_RATE = click.FloatRange(0, 1, max_open=True)
_REFILL = click.FloatRange(0, min_open=True)


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port; 0 (default) picks a free one.")
@click.option(
    "--db", type=click.Path(dir_okay=False, path_type=Path), help="SQLite state file (default: a temp file)."
)
@click.option("--latency-ms", type=click.IntRange(0), default=0, help="Delay added to every request.")
@click.option("--fault-rate", type=_RATE, default=0.0, help="Share of requests failing: 500, 503 or a reset.")
@click.option("--throttle-rate", type=_RATE, default=0.0, help="Share of requests answered 429.")
@click.option("--retry-after", type=click.IntRange(0), default=1, help="Retry-After seconds (default 1).")
@click.option("--page-size", type=click.IntRange(1), default=100, help="Items per list page (default 100).")
@click.option("--seed", type=int, help="Seed for the fault and throttle draws.")
@click.option(
    "--secrets-type",
    type=click.Choice(["Sas", "AccountKey"]),
    default="Sas",
    show_default=True,
    help="What the datastore's listSecrets returns.",
)
@click.option("--isolate", is_flag=True, help="One SQLite file per ARM workspace id.")
@click.option(
    "--arm-throttle",
    is_flag=True,
    help="Enforce ARM's limits: token buckets per subscription and principal, 429 past them.",
)
@click.option("--read-bucket", type=click.IntRange(1), default=250, show_default=True, help="Read tokens.")
@click.option("--read-refill", type=_REFILL, default=25.0, show_default=True, help="Read tokens a second.")
@click.option(
    "--write-bucket", type=click.IntRange(1), default=200, show_default=True, help="Write and delete tokens."
)
@click.option("--write-refill", type=_REFILL, default=10.0, show_default=True, help="Write tokens a second.")
def emulator_cmd(host: str, port: int, db: Path | None, **options: Any) -> ExitCode:
    """Serve an Azure ML (ARM) emulator on 127.0.0.1 until interrupted.

    Point a target's `endpoint` (or ENVSYNC_ARM_ENDPOINT) at the printed URL.

    Example: envsync emulator --port 8950 --throttle-rate 0.1 --seed 1    |    envsync emulator --arm-throttle
    """
    import signal

    from envsync.emulator.server import start_emulator

    handle = start_emulator(db, host=host, port=port, **options)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"Emulator listening on {handle.url}")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        handle.stop()
    return ExitCode.OK


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def validate_cmd(app: App, paths: tuple[Path, ...], fmt: str) -> ExitCode:
    """Check environment YAMLs (default: envsync.yaml's environments globs). Exit 1 on errors.

    PATHS may be files or folders, relative to the repository root. Prints every problem as
    path:line:col: message, or a one-line summary when there are no errors.

    Example: envsync validate environments/pytorch-train.yml --format json
    """
    import json

    from envsync.spec.load import load_all
    from envsync.spec.problems import problem_json

    result = load_all(app.config, paths)
    result = result if paths else with_references(app, result)
    if fmt == "json":
        problems = [problem_json(p) for p in result.problems]
        doc = {
            "format_version": 1,
            "valid": not result.errors,
            "environments": len(result.specs),
            "count": len(problems),
            "errors": len(result.errors),
            "problems": problems,
        }
        click.echo(json.dumps(doc, indent=2))
    else:
        for problem in result.problems:
            click.echo(str(problem))
        if not result.errors:
            count = len(result.specs)
            click.echo(f"{count} environment{'s' * (count != 1)} valid")
    return ExitCode.ERROR if result.errors else ExitCode.OK


@click.group("github")
def github_group() -> None:
    """Post plans and drift reports to GitHub (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL).

    Each report carries a hidden marker per target, so a rerun replaces it instead of adding one.
    """


_BODY_FILE = click.File("r", encoding="utf-8")


def _marker_target(app: App, target: str | None) -> str:
    # The name `envsync plan -t` would use: --target, else ENVSYNC_TARGET, else default_target.
    return str(app.config.target(target).name)


@github_group.command("comment")
@click.option("--pr", type=click.IntRange(1), required=True, help="Pull request number.")
@click.option("--body-file", type=_BODY_FILE, required=True, help="Markdown to post ('-': stdin).")
@click.option("-t", "--target", help="Target the plan is for (one comment per target).")
@click.pass_obj
def github_comment_cmd(app: App, pr: int, body_file: Any, target: str | None) -> ExitCode:
    """Create or update the plan comment on a pull request.

    Example: envsync github comment --pr 7 --body-file plan.md
    """
    from envsync.gitops import github

    marker = github.plan_marker(_marker_target(app, target))
    done = github.GitHub.from_env().upsert_comment(pr, body_file.read(), marker=marker)
    click.echo(f"{done.action.value} comment {done.url}")
    return ExitCode.OK


@github_group.command("issue")
@click.option("--title", help="Issue title (required unless --close).")
@click.option("--body-file", type=_BODY_FILE, help="Markdown body ('-': stdin); with --close, a comment.")
@click.option("-t", "--target", help="Target the drift report is for (one issue per target).")
@click.option("--close", is_flag=True, help="Drift is clean: close the open drift issue, if any.")
@click.pass_obj
def github_issue_cmd(
    app: App, title: str | None, body_file: Any, target: str | None, close: bool
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
    done = client.upsert_issue(title or "", body, marker=github.drift_marker(name), close=close)
    if done.url is None:
        click.echo(f"no open drift issue for target {name}: nothing to close")
    else:
        click.echo(f"{done.action.value} issue {done.url}")
    return ExitCode.OK
