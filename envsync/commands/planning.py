"""plan and apply."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from envsync.commands.common import (
    App,
    check_references,
    name_filter,
    open_planned,
    selecting,
    timed,
    use_color,
)
from envsync.commands.early import EarlyTarget
from envsync.commands.paths import RootPath
from envsync.commands.reporting import annotating, echo_problems, load_checked, plan_problems, write_reports
from envsync.errors import ExitCode

if TYPE_CHECKING:
    from envsync.gitops.state import GitState, Selection
    from envsync.plan.selection import NameFilter


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


@click.command("plan")
@click.option("-t", "--target", help="Target workspace from envsync.yaml (default: its default_target).")
@click.option(
    "--out",
    type=RootPath(dir_okay=False, path_type=Path),
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
    type=RootPath(file_okay=False, path_type=Path),
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
    app.require_git()  # before anything is read or written there
    from envsync.gitops import state

    request = PlanRequest(**options)  # type: ignore[arg-type]  # click checked each option's type
    names = app.config.target_names() if request.all_targets else [request.target]
    guessed = state.guess(app.config, request.changed_since, app.git) if request.changed_since else None
    targets = [EarlyTarget(app, open_planned(app, name, progress=True), request, guessed) for name in names]
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
    with timed(early.opened, "planning against"):
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
    early.opened.read()
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
