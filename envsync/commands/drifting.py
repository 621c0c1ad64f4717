"""drift: what differs between git and a workspace, and what apply --refresh heals."""

from __future__ import annotations

import click

from envsync.commands.common import App, open_target
from envsync.errors import ExitCode


@click.command("drift")
@click.option("-t", "--target", help="Target workspace from envsync.yaml.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True
)
@click.option("--all-targets", is_flag=True, help="Check every configured target, one section each.")
@click.pass_obj
def drift_cmd(app: App, target: str | None, fmt: str, all_targets: bool) -> ExitCode:
    """Report how the workspace differs from git. Exit 2 when it drifted.

    Always reads every version: hand edits to a version's tags or description leave no other
    trace. Each finding is healable (`envsync apply --refresh` repairs it) or report-only (it
    says why and what to do); the report ends with the command that heals.

    Example: envsync drift -t prod --format markdown > drift.md
    """
    from envsync.plan import drift, drift_report
    from envsync.plan.observe import observe
    from envsync.plan.run import plan_options
    from envsync.spec.load import load_valid

    config = app.config
    specs = load_valid(config)
    drifted = False
    for name in config.target_names() if all_targets else [target]:
        opened = open_target(app, name)
        observed = observe(opened.workspace, specs, concurrency=config.concurrency, exclude=config.exclude)
        report = drift.detect(specs, observed, plan_options(config, opened.target))
        render = {"json": drift_report.to_json, "markdown": drift_report.markdown}.get(fmt, drift_report.text)
        click.echo(render(report), nl=False)
        drifted = drifted or report.drifted
    return ExitCode.CHANGES if drifted else ExitCode.OK
