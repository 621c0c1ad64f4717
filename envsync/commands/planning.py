"""plan, apply and drift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from envsync.commands.common import (
    App,
    Progress,
    approved,
    check_references,
    open_target,
    use_color,
)
from envsync.errors import EnvsyncError, ExitCode


@click.command("plan")
@click.option("-t", "--target", help="Target workspace from envsync.yaml (default: its default_target).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan as JSON for `envsync apply PLAN`.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (0: none, 1: error).")
@click.option("-v", "--verbose", is_flag=True, help="Show environments with no changes too.")
@click.option(
    "--no-color", is_flag=True, help="No colour (also off with NO_COLOR or when not on a terminal)."
)
@click.option(
    "--refresh", is_flag=True, help="Read every version, ignoring the last-applied records on containers."
)
@click.option("--changed-since", metavar="REF", help="Plan only environments changed since REF's merge base.")
@click.option("--at", "at_ref", metavar="REF", help="Plan the environments as they are at REF (no checkout).")
@click.option("--all-targets", is_flag=True, help="Plan every configured target, one section each.")
@click.pass_obj
def plan_cmd(app: App, /, **opts: Any) -> ExitCode:
    """Show what apply would change in the target workspace.

    Example: envsync plan --changed-since origin/main --format markdown --out plan.json > plan.md
    """
    from envsync import pipeline

    names = app.config.target_names() if opts["all_targets"] else [opts["target"]]
    targets = [_Opened(app, *open_target(app, name), opts) for name in names]
    if opts["at_ref"]:
        with pipeline.specs_at(app.config, opts["at_ref"]) as specs:
            return _plan_targets(app, targets, pipeline.Selection(specs), opts)
    specs = pipeline.load_specs(app.config)
    selection = pipeline.Selection(specs)
    if opts["changed_since"]:
        selection = pipeline.changed_since(app.config, specs, opts["changed_since"])
    return _plan_targets(app, targets, selection, opts)


class _Opened:
    """A target opened before git's YAMLs load, already being read (unless a --changed-since
    selection will read just its own names), so the reading overlaps the parsing."""

    def __init__(self, app: App, target: Any, workspace: Any, opts: dict[str, Any]):
        from envsync import pipeline

        self.target, self.workspace = target, workspace
        self.early = None
        if not opts["changed_since"]:
            self.early = pipeline.start_early(app.config, workspace, refresh=opts["refresh"])


def _plan_targets(app: App, targets: list[_Opened], selection: Any, opts: dict[str, Any]) -> ExitCode:
    codes = [_plan_one(app, t, selection, opts, many=len(targets) > 1) for t in targets]
    return max(codes, key=lambda c: (c == ExitCode.ERROR, c == ExitCode.CHANGES))


def _plan_one(app: App, opened: _Opened, selection: Any, opts: dict[str, Any], *, many: bool) -> ExitCode:
    from envsync import pipeline
    from envsync.plan import render, saved

    chosen, workspace = opened.target, opened.workspace
    result = pipeline.make_plan(
        app.config,
        chosen,
        workspace,
        selection.specs,
        refresh=opts["refresh"],
        only=selection.only,
        early=opened.early,
        commit=pipeline.head_commit(app.config, selection.specs),
    )
    result, bad_references = check_references(app, workspace, result)
    if opts["out"]:
        out = opts["out"]
        saved.write(result, out.with_name(f"{out.stem}.{chosen.name}{out.suffix}") if many else out)
    if opts["fmt"] == "json":
        click.echo(render.to_json(result), nl=False)
    elif opts["fmt"] == "markdown":
        click.echo(render.markdown(result), nl=False)
    else:
        click.echo(render.text(result, verbose=opts["verbose"], color=use_color(opts["no_color"])), nl=False)
    if result.errors or bad_references:
        return ExitCode.ERROR
    return ExitCode.CHANGES if opts["detailed_exitcode"] and result.has_changes else ExitCode.OK


@click.command("apply")
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-t", "--target", help="Target workspace (default: the plan's, else envsync.yaml's default).")
@click.option("--auto-approve", is_flag=True, help="Apply without asking (required when not on a terminal).")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    help="Changes applied at once (default: envsync.yaml's concurrency).",
)
@click.option(
    "--prune", is_flag=True, help="Archive orphans: versions envsync created that git no longer defines."
)
@click.option("--allow-dirty", is_flag=True, help="Apply from a working tree with uncommitted changes.")
@click.option("--all-targets", is_flag=True, help="Apply to every configured target in turn.")
@click.option("--no-color", is_flag=True, help="No colour.")
@click.pass_obj
def apply_cmd(app: App, /, plan_file: Path | None, **opts: Any) -> ExitCode:
    """Apply a saved plan, or plan and apply after confirmation.

    Example: envsync apply plan.json    |    envsync apply --auto-approve
    """
    from envsync import pipeline

    specs = pipeline.load_specs(app.config)
    if not opts["allow_dirty"]:
        pipeline.refuse_dirty(app.config, specs)
    if plan_file is not None:
        return _apply_saved(app, plan_file, specs, opts)
    names = app.config.target_names() if opts["all_targets"] else [opts["target"]]
    codes = [_plan_and_apply(app, name, specs, opts) for name in names]
    return ExitCode.ERROR if ExitCode.ERROR in codes else ExitCode.OK


def _apply_saved(app: App, plan_file: Path, specs: Any, opts: dict[str, Any]) -> ExitCode:
    from envsync.plan import saved

    result = saved.read(plan_file)
    chosen, workspace = open_target(app, opts["target"] or result.target)
    if result.target != chosen.name:
        raise EnvsyncError(f"{plan_file}: the plan is for target '{result.target}', not '{chosen.name}'")
    return _execute(app, workspace, result, specs, opts)


def _plan_and_apply(app: App, target: str | None, specs: Any, opts: dict[str, Any]) -> ExitCode:
    from envsync import pipeline
    from envsync.plan import render

    chosen, workspace = open_target(app, target)
    result = pipeline.make_plan(
        app.config, chosen, workspace, specs, commit=pipeline.head_commit(app.config, specs)
    )
    click.echo(render.text(result, color=use_color(opts["no_color"])), nl=False)
    if not (result.has_changes or result.errors or result.records_to_write):
        return ExitCode.OK
    # Writing only last-applied records is bookkeeping on container tags: no confirmation.
    if result.has_changes and not result.errors and not approved(opts["auto_approve"]):
        click.echo("Apply cancelled.")
        return ExitCode.ERROR
    return _execute(app, workspace, result, specs, opts)


def _execute(app: App, workspace: Any, result: Any, specs: Any, opts: dict[str, Any]) -> ExitCode:
    from envsync import pipeline
    from envsync.apply.applier import ApplyOptions, apply

    config = app.config
    options = ApplyOptions(
        prune=opts["prune"],
        protected=config.protected,
        ignore_tags=config.ignore_tags,
        concurrency=opts["concurrency"] or config.concurrency,
        provenance=pipeline.provenance_for(config, specs),
    )
    progress = Progress(sum(1 for c in result.changes if c.action.value != "noop"))
    outcome = apply(result, workspace, specs, options, on_result=progress)
    progress.finish()
    click.echo(outcome.summary())
    return ExitCode.ERROR if outcome.failed else ExitCode.OK


@click.command("drift")
@click.option("-t", "--target", help="Target workspace from envsync.yaml.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True
)
@click.option("--all-targets", is_flag=True, help="Check every configured target, one section each.")
@click.pass_obj
def drift_cmd(app: App, target: str | None, fmt: str, all_targets: bool) -> ExitCode:
    """Report what changed in the workspace outside git. Exit 2 when it drifted.

    Always reads every version: hand edits to a version's tags or description leave no other trace.
    """
    from envsync import drift, pipeline
    from envsync.plan.observe import observe

    config = app.config
    specs = pipeline.load_specs(config)
    drifted = False
    for name in config.target_names() if all_targets else [target]:
        chosen, workspace = open_target(app, name)
        observed = observe(workspace, specs, concurrency=config.concurrency, exclude=config.exclude)
        report = drift.detect(specs, observed, pipeline.plan_options(config, chosen))
        render = {"json": drift.to_json, "markdown": drift.markdown}.get(fmt, drift.text)
        click.echo(render(report), nl=False)
        drifted = drifted or report.drifted
    return ExitCode.CHANGES if drifted else ExitCode.OK
