"""plan and apply."""

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
    check_references,
    name_filter,
    open_target,
    selecting,
    use_color,
)
from envsync.commands.early import EarlyTarget
from envsync.commands.reporting import annotating, echo_problems, load_checked, plan_problems, write_reports
from envsync.errors import EnvsyncError, ExitCode

if TYPE_CHECKING:
    from envsync.gitops.state import GitState, Selection
    from envsync.plan.model import Plan
    from envsync.plan.selection import NameFilter
    from envsync.spec.model import EnvironmentSpec


@dataclass(frozen=True)
class PlanRequest:
    target: str | None = None
    out: Path | None = None
    fmt: str = "text"
    detailed_exitcode: bool = False
    verbose: bool = False
    no_color: bool = False
    refresh: bool = False
    changed_since: str | None = None
    at_ref: str | None = None
    all_targets: bool = False
    report_dir: Path | None = None
    usage: bool = False
    names: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def annotate(self) -> bool:
        return annotating(self.fmt)

    @property
    def select(self) -> NameFilter:
        return name_filter(self.names, self.exclude)


@dataclass(frozen=True)
class ApplyRequest:
    target: str | None = None
    auto_approve: bool = False
    concurrency: int | None = None
    prune: bool = False
    refresh: bool = False
    allow_dirty: bool = False
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


@click.command("plan")
@click.option("-t", "--target", help="Target workspace from envsync.yaml (default: its default_target).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan as JSON for `envsync apply PLAN`.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json", "github"]),
    default="text",
    show_default=True,
    help="github: text, with problems as GitHub annotations (automatic in GitHub Actions).",
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write the whole plan there as plan.txt, plan.md, plan.json and plan.summary.",
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
@click.option("--usage", is_flag=True, help="Read live deployments even if nothing would be archived.")
@selecting
@click.pass_obj
def plan_cmd(app: App, /, **options: object) -> ExitCode:
    """Show what apply would change in the target workspace.

    Example: envsync plan --changed-since origin/main --format markdown --out plan.json > plan.md
    """
    from envsync.gitops import state

    request = PlanRequest(**options)  # type: ignore[arg-type]  # click checked each option's type
    names = app.config.target_names() if request.all_targets else [request.target]
    guessed = state.guess(app.config, request.changed_since, app.git) if request.changed_since else None
    targets = [EarlyTarget(app, open_target(app, name), request, guessed) for name in names]
    if request.at_ref:
        with state.specs_at(app.config, request.at_ref) as selection:
            return _plan_targets(app, targets, selection, request)
    specs = load_checked(app, annotate=request.annotate, title="envsync plan")
    selection = state.Selection(specs)
    if request.changed_since:
        changed = guessed.changed if guessed is not None else None
        selection = state.changed_since(app.config, specs, request.changed_since, app.git, changed=changed)
    return _plan_targets(app, targets, selection, request)


def _plan_targets(
    app: App, targets: list[EarlyTarget], selection: Selection, request: PlanRequest
) -> ExitCode:
    from dataclasses import replace

    from envsync.gitops import actions
    from envsync.gitops.state import read_state

    git = read_state(app.config, selection.specs, app.git)
    git = replace(git, commit=actions.shown_commit(git.commit))  # a pull request's head, not its merge
    codes = [_plan_one(app, t, selection, git, request, many=len(targets) > 1) for t in targets]
    return max(codes, key=lambda c: (c == ExitCode.ERROR, c == ExitCode.CHANGES))


def _plan_one(
    app: App, early: EarlyTarget, selection: Selection, git: GitState, request: PlanRequest, *, many: bool
) -> ExitCode:
    from envsync.plan import render, saved
    from envsync.plan.run import make_plan

    chosen, workspace = early.opened.target, early.opened.workspace
    result = make_plan(
        app.config,
        chosen,
        workspace,
        app.config.specs_for(chosen, selection.specs, selection.root),
        refresh=request.refresh,
        only=selection.only,
        early=early.early,
        commit=git.commit,
        usage=request.usage,
        select=request.select,
    )
    result, bad_references = check_references(app, early.opened, result, annotate=request.annotate)
    if request.annotate:
        found = [*plan_problems(result, selection.specs), *result.problems]  # policy findings too
        echo_problems(app, found, annotate=True, title="envsync plan", err=True)
    suffix = f".{chosen.name}" if many else ""
    if request.out:
        saved.write(result, request.out.with_name(f"{request.out.stem}{suffix}{request.out.suffix}"))
    if request.report_dir:
        texts = {"txt": render.text(result, verbose=request.verbose), "md": render.markdown(result)}
        write_reports(
            request.report_dir,
            f"plan{suffix}",
            {**texts, "json": render.to_json(result)},
            render.summary(result),
        )
    if request.fmt == "json":
        click.echo(render.to_json(result), nl=False)
    elif request.fmt == "markdown":
        click.echo(render.markdown(result), nl=False)
    else:
        color = use_color(request.no_color)
        click.echo(render.text(result, verbose=request.verbose, color=color), nl=False)
    if result.errors or result.policy_errors or bad_references:
        return ExitCode.ERROR
    return ExitCode.CHANGES if request.detailed_exitcode and result.has_changes else ExitCode.OK


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
@click.option(
    "--refresh",
    is_flag=True,
    help="Plan from every version, not the last-applied records: heals hand edits and archives.",
)
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
        opened = open_target(self.app, self.request.target or result.target)
        if result.target != opened.target.name:
            raise EnvsyncError(
                f"{plan_file}: the plan is for target '{result.target}', not '{opened.target.name}'"
            )
        return self.execute(opened, result)

    def plan_and_apply(self, target: str | None) -> ExitCode:
        from envsync.apply import report
        from envsync.apply.result import ApplyResult
        from envsync.plan import render
        from envsync.plan.run import make_plan, with_latest_followers

        opened = open_target(self.app, target)
        config = self.app.config
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
        pruning = render.Pruning(self.request.prune, config.protected)
        color = use_color(self.request.no_color) and not self.request.json
        click.echo(render.text(result, color=color, pruning=pruning), nl=False, err=self.request.json)
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
        progress = Progress(len(result.pending), err=self.request.json)  # record-only no-ops too
        specs = config.specs_for(opened.target, self.specs)
        outcome = apply(result, opened.workspace, specs, options, on_result=progress)
        progress.finish()
        self.applied.append(report.to_json(opened.target.name, outcome))
        click.echo(report.summary(outcome), err=self.request.json)
        return ExitCode.ERROR if outcome.failed else ExitCode.OK
