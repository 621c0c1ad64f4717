"""apply: a saved plan exactly, or a new plan after confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from envsync.commands.common import (
    App,
    Opened,
    Progress,
    approved,
    name_filter,
    open_planned,
    selecting,
    timed,
    use_color,
)
from envsync.commands.paths import RootPath
from envsync.commands.reporting import annotating, load_checked
from envsync.errors import EnvsyncError, ExitCode

if TYPE_CHECKING:
    from envsync.gitops.state import GitState
    from envsync.plan.model import Plan
    from envsync.plan.selection import NameFilter
    from envsync.spec.model import EnvironmentSpec


@dataclass(frozen=True)
class ApplyRequest:
    target: str | None = None
    auto_approve: bool = False
    concurrency: int | None = None
    prune: bool = False
    refresh: bool = False
    allow_dirty: bool = False
    allow_mass_prune: bool = False
    all_targets: bool = False
    no_color: bool = False
    fmt: str = "text"
    names: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def select(self) -> NameFilter:
        return name_filter(self.names, self.exclude)

    @property
    def json(self) -> bool:
        """stdout carries only the JSON document; the plan and progress go to stderr."""
        return self.fmt == "json"


@click.command("apply")
@click.argument("plan_file", required=False, type=RootPath(dir_okay=False, path_type=Path))
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
@click.option(
    "--refresh",
    is_flag=True,
    help="Plan from every version, not the last-applied records: heals hand edits and archives.",
)
@click.option("--allow-mass-prune", is_flag=True, help="Let --prune archive all, or over max_prune_share.")
@click.option("--allow-dirty", is_flag=True, help="Apply from a working tree with uncommitted changes.")
@click.option("--all-targets", is_flag=True, help="Apply to every configured target in turn.")
@click.option("--no-color", is_flag=True, help="No colour.")
@selecting
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: what happened to each change, and the counts (schemas/apply.schema.json), on stdout.",
)
@click.pass_obj
def apply_cmd(app: App, /, plan_file: Path | None, **options: object) -> ExitCode:
    """Apply a saved plan, or plan and apply after confirmation.

    Example: envsync apply plan.json    |    envsync apply --refresh --auto-approve
    """
    app.require_git()  # before anything is read or written there
    from envsync.gitops.state import read_state

    request = ApplyRequest(**options)  # type: ignore[arg-type]  # click checked each option's type
    if plan_file is not None and request.refresh:
        raise click.UsageError(
            "--refresh makes a new plan; a saved plan applies as it was made "
            "(save one with plan --refresh --out)"
        )
    if plan_file is not None and request.select.partial:
        raise click.UsageError(
            "--name/--exclude select what a new plan covers; a saved plan applies as it was made "
            "(save a partial one with plan --name ... --out)"
        )
    specs = load_checked(app, annotate=annotating(None), title="envsync apply")
    git = read_state(app.config, specs, app.git)  # the dirty check and every version's provenance
    if not request.allow_dirty:
        git.refuse_dirty()
    run = _ApplyRun(app, request, specs, git, [])
    if plan_file is not None:
        codes = [run.saved(plan_file)]
    else:
        names = app.config.target_names() if request.all_targets else [request.target]
        codes = [run.plan_and_apply(name) for name in names]
    if request.json:
        from envsync.apply import report

        click.echo(report.document(run.applied), nl=False)
    return ExitCode.ERROR if ExitCode.ERROR in codes else ExitCode.OK


@dataclass(frozen=True)
class _ApplyRun:
    app: App
    request: ApplyRequest
    specs: tuple[EnvironmentSpec, ...]
    git: GitState
    applied: list[dict[str, object]]  # each target's part of the JSON document, as it ends

    def saved(self, plan_file: Path) -> ExitCode:
        from envsync.plan import saved

        result = saved.read(plan_file)
        opened = open_planned(self.app, self.request.target or result.target)
        if result.target != opened.target.name:
            raise EnvsyncError(
                f"{plan_file}: the plan is for target '{result.target}', not '{opened.target.name}'"
            )
        self.guard(result)
        return self.execute(opened, result)

    def plan_and_apply(self, target: str | None) -> ExitCode:
        from envsync.apply import report
        from envsync.apply.result import ApplyResult
        from envsync.plan import render
        from envsync.plan.run import make_plan, with_latest_followers

        opened = open_planned(self.app, target, progress=True)
        config = self.app.config
        with timed(opened, "planning against"):
            result = make_plan(
                config,
                opened.target,
                opened.workspace,
                config.specs_for(opened.target, self.specs),
                commit=self.git.commit,
                refresh=self.request.refresh,
                select=self.request.select,
            )
        result = with_latest_followers(config, result)
        opened.read()
        pruning = render.Pruning(self.request.prune, config.protected)
        color = use_color(self.request.no_color) and not self.request.json
        click.echo(render.text(result, color=color, pruning=pruning), nl=False, err=self.request.json)
        self.guard(result)
        blocked = result.errors or result.policy_errors  # apply refuses these: nothing to confirm
        if not (result.has_changes or blocked or result.records_to_write):
            self.applied.append(report.to_json(opened.target.name, ApplyResult(())))
            return ExitCode.OK
        # Writing only last-applied records is bookkeeping on container tags: no confirmation.
        asked = result.has_changes and not blocked and not self.request.auto_approve
        if asked and not approved(self.request.auto_approve):
            click.echo("Apply cancelled.", err=self.request.json)
            return ExitCode.ERROR
        # A plan nobody waited on is as fresh as a re-read: applied without re-reading first.
        return self.execute(opened, result, fresh=not asked)

    def guard(self, result: Plan) -> None:
        from envsync.plan.prune_guard import check

        check(result, self.app.config, prune=self.request.prune, allow=self.request.allow_mass_prune)

    def execute(self, opened: Opened, result: Plan, *, fresh: bool = False) -> ExitCode:
        """Apply `result`; `fresh`: this run made it just now and nobody was asked to wait on it."""
        from envsync.apply import report
        from envsync.apply.applier import ApplyOptions, apply
        from envsync.plan.run import in_use_now

        config = self.app.config
        if self.request.prune and not fresh:  # deployed since the plan was made: kept all the same
            result = in_use_now(opened.target, opened.workspace, result, config.protected)
        options = ApplyOptions(
            prune=self.request.prune,
            protected=config.protected,
            ignore_tags=config.ignore_tags,
            concurrency=self.request.concurrency or config.concurrency,
            provenance=self.git.properties,
            fresh=fresh,
        )
        # What apply acts on, record-only no-ops too.
        progress = Progress(len(result.pending), err=self.request.json, quiet=self.app.quiet)
        specs = config.specs_for(opened.target, self.specs)
        with timed(opened, "applying to"):
            outcome = apply(result, opened.workspace, specs, options, on_result=progress)
        progress.finish()
        self.applied.append(report.to_json(opened.target.name, outcome))
        click.echo(report.summary(outcome), err=self.request.json)
        return ExitCode.ERROR if outcome.failed else ExitCode.OK
