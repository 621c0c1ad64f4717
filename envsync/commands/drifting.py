"""drift: what differs between git and a workspace, and what apply --refresh heals."""

from __future__ import annotations

from pathlib import Path

import click

from envsync.commands.common import App, name_filter, open_planned, selecting, timed
from envsync.commands.paths import RootPath
from envsync.commands.reporting import annotating, load_checked, write_reports
from envsync.errors import ExitCode


@click.command("drift")
@click.option("-t", "--target", help="Target workspace from envsync.yaml.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True
)
@click.option(
    "--report-dir",
    type=RootPath(file_okay=False, path_type=Path),
    help="Also write the whole report there as drift.txt, drift.md, drift.json and drift.summary.",
)
@click.option("--all-targets", is_flag=True, help="Check every configured target, one section each.")
@selecting
@click.pass_obj
def drift_cmd(
    app: App,
    target: str | None,
    fmt: str,
    report_dir: Path | None,
    all_targets: bool,
    names: tuple[str, ...],
    exclude: tuple[str, ...],
) -> ExitCode:
    """Report how the workspace differs from git. Exit 2 when it drifted.

    Always reads every version: hand edits to a version's tags or description leave no other
    trace. Each finding is healable (`envsync apply --refresh` repairs it) or report-only (it
    says why and what to do); the report ends with the command that heals.

    Example: envsync drift -t prod --format markdown > drift.md
    """
    app.require_git()  # before anything is read or written there
    from envsync.plan import drift, drift_report
    from envsync.plan.observe import observe
    from envsync.plan.run import narrow, plan_options

    config = app.config
    specs = load_checked(app, annotate=annotating(None), title="envsync drift")
    select = name_filter(names, exclude)
    targets = config.target_names() if all_targets else [target]
    drifted = False
    for name in targets:
        opened = open_planned(app, name, progress=True)
        mine = config.specs_for(opened.target, specs)
        with timed(opened, "reading"):
            observed = observe(
                opened.workspace,
                mine,
                concurrency=config.concurrency,
                exclude=config.exclude,
                only=narrow(None, select),
            )
        opened.read()
        report = drift.detect(mine, observed, plan_options(config, opened.target, select))
        if report_dir:
            stem = f"drift.{opened.target.name}" if len(targets) > 1 else "drift"
            texts = {
                "txt": drift_report.text(report),
                "md": drift_report.markdown(report),
                "json": drift_report.to_json(report),
            }
            write_reports(report_dir, stem, texts, drift_report.summary(report))
        render = {"json": drift_report.to_json, "markdown": drift_report.markdown}.get(fmt, drift_report.text)
        click.echo(render(report), nl=False)
        drifted = drifted or report.drifted
    return ExitCode.CHANGES if drifted else ExitCode.OK
