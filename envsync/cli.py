"""The command line: options → values → library calls → rendered output and an exit code.

This is the only module that prints or exits. Heavy modules are imported inside commands so
`envsync --help` starts fast.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

import click

from envsync import __version__
from envsync.errors import EnvsyncError, ExitCode


class Cli(click.Group):
    """Maps every outcome to an exit code, in one place."""

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:
        kwargs["standalone_mode"] = False  # errors come back here instead of exiting inside click
        try:
            code = super().main(*args, **kwargs)
            code = ExitCode.OK if code is None else code
        except EnvsyncError as e:
            for line in e.details:
                click.echo(line, err=True)
            click.echo(f"error: {e}", err=True)
            code = e.exit_code
        except click.exceptions.Exit as e:
            code = e.exit_code
        except click.ClickException as e:
            e.show()
            code = ExitCode.ERROR  # click's usage errors default to 2, which means "changes" here
        except (click.Abort, KeyboardInterrupt):
            click.echo("Interrupted.", err=True)
            code = ExitCode.INTERRUPTED
        except Exception:  # a bug: keep the traceback, make the exit distinguishable
            traceback.print_exc()
            code = ExitCode.INTERNAL
        sys.exit(int(code))


@dataclass
class App:
    """What every command shares: the repository root and its config, loaded on first use."""

    root: Path

    @cached_property
    def config(self) -> Any:
        from envsync import config

        return config.load(self.root)


@click.group(cls=Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="envsync")
@click.option(
    "-C",
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    help="Repository root (where envsync.yaml and environments/ live).",
)
@click.pass_context
def cli(ctx: click.Context, root: Path) -> None:
    """GitOps for Azure Machine Learning environments.

    Plan and apply the environment YAMLs in git against a workspace, and detect drift.
    """
    ctx.obj = App(root=root.resolve())


def _open(app: App, target_name: str | None) -> tuple[Any, Any]:
    from envsync.workspace.factory import open_workspace

    target = app.config.target(target_name)
    return target, open_workspace(target)


def _color(no_color: bool) -> bool:
    return not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()


@cli.command("plan")
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

    if opts["at_ref"]:
        with pipeline.specs_at(app.config, opts["at_ref"]) as specs:
            return _plan_targets(app, pipeline.Selection(specs), opts)
    specs = pipeline.load_specs(app.config)
    selection = pipeline.Selection(specs)
    if opts["changed_since"]:
        selection = pipeline.changed_since(app.config, specs, opts["changed_since"])
    return _plan_targets(app, selection, opts)


def _plan_targets(app: App, selection: Any, opts: dict[str, Any]) -> ExitCode:
    names = app.config.target_names() if opts["all_targets"] else [opts["target"]]
    codes = [_plan_one(app, name, selection, opts, many=len(names) > 1) for name in names]
    return max(codes, key=lambda c: (c == ExitCode.ERROR, c == ExitCode.CHANGES))


def _plan_one(app: App, target: str | None, selection: Any, opts: dict[str, Any], *, many: bool) -> ExitCode:
    from envsync import pipeline
    from envsync.plan import render, saved

    chosen, workspace = _open(app, target)
    result = pipeline.make_plan(
        app.config, chosen, workspace, selection.specs, refresh=opts["refresh"], only=selection.only,
        commit=pipeline.head_commit(app.config, selection.specs),
    )
    result, bad_references = _check_references(app, workspace, result)
    if opts["out"]:
        out = opts["out"]
        saved.write(result, out.with_name(f"{out.stem}.{chosen.name}{out.suffix}") if many else out)
    if opts["fmt"] == "json":
        click.echo(render.to_json(result), nl=False)
    elif opts["fmt"] == "markdown":
        click.echo(render.markdown(result), nl=False)
    else:
        click.echo(render.text(result, verbose=opts["verbose"], color=_color(opts["no_color"])), nl=False)
    if result.errors or bad_references:
        return ExitCode.ERROR
    return ExitCode.CHANGES if opts["detailed_exitcode"] and result.has_changes else ExitCode.OK


@cli.command("apply")
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
    chosen, workspace = _open(app, opts["target"] or result.target)
    if result.target != chosen.name:
        raise EnvsyncError(f"{plan_file}: the plan is for target '{result.target}', not '{chosen.name}'")
    return _execute(app, workspace, result, specs, opts)


def _plan_and_apply(app: App, target: str | None, specs: Any, opts: dict[str, Any]) -> ExitCode:
    from envsync import pipeline
    from envsync.plan import render

    chosen, workspace = _open(app, target)
    result = pipeline.make_plan(
        app.config, chosen, workspace, specs, commit=pipeline.head_commit(app.config, specs)
    )
    click.echo(render.text(result, color=_color(opts["no_color"])), nl=False)
    if not (result.has_changes or result.errors):
        return ExitCode.OK
    if not result.errors and not _approved(opts["auto_approve"]):
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
    progress = _Progress(sum(1 for c in result.changes if c.action.value != "noop"))
    outcome = apply(result, workspace, specs, options, on_result=progress)
    progress.finish()
    click.echo(outcome.summary())
    return ExitCode.ERROR if outcome.failed else ExitCode.OK


@cli.command("drift")
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
        chosen, workspace = _open(app, name)
        observed = observe(workspace, specs, concurrency=config.concurrency, exclude=config.exclude)
        report = drift.detect(specs, observed, pipeline.plan_options(config, chosen))
        render = {"json": drift.to_json, "markdown": drift.markdown}.get(fmt, drift.text)
        click.echo(render(report), nl=False)
        drifted = drifted or report.drifted
    return ExitCode.CHANGES if drifted else ExitCode.OK


@cli.command("list")
@click.option("-t", "--target", help="Target workspace from envsync.yaml.")
@click.option("--name", help="List the versions of this environment instead.")
@click.option("--archived", is_flag=True, help="Include archived environments and versions.")
@click.option("--curated", is_flag=True, help="Include Microsoft's curated environments.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def list_cmd(app: App, target: str | None, name: str | None, archived: bool, curated: bool, fmt: str) -> None:
    """List the workspace's environments (name, latest version, created), like az ml environment list.

    Example: envsync list --name sklearn --archived
    """
    from envsync import inspect
    from envsync.workspace import ListView

    _, workspace = _open(app, target)
    view = ListView.ALL if archived else ListView.ACTIVE
    if name:
        versions = workspace.list_versions(name, view)
        if not versions and workspace.get_environment(name) is None:
            raise EnvsyncError(f"no environment '{name}' in {workspace.target}")
        rows, columns = inspect.version_rows(versions), ("name", "version", "created", "archived")
        docs: list[Any] = [inspect.show_doc(v) for v in versions]
    else:
        shown = inspect.visible(workspace.list_environments(view), curated=curated, archived=archived)
        rows = inspect.environment_rows(shown, _created(workspace, shown, app.config.concurrency))
        columns, docs = ("name", "latest_version", "created", "archived"), rows
    shown_columns = columns if archived else columns[:-1]
    text = inspect.render_doc(docs, "json") if fmt == "json" else inspect.table(rows, shown_columns)
    click.echo(text, nl=False)


def _created(workspace: Any, containers: list[Any], concurrency: int) -> dict[str, str]:
    """When each container's latest version was created (containers do not say)."""
    from concurrent.futures import ThreadPoolExecutor

    def created(c: Any) -> str:
        found = workspace.get_version(c.name, c.latest_version) if c.latest_version else None
        return str(found.created) if found else ""

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return dict(zip((c.name for c in containers), pool.map(created, containers), strict=True))


@cli.command("show")
@click.argument("reference")
@click.option("-t", "--target", help="Target workspace from envsync.yaml.")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
@click.pass_obj
def show_cmd(app: App, reference: str, target: str | None, fmt: str) -> None:
    """Show one environment version, like az ml environment show.

    REFERENCE is NAME, NAME:VERSION or NAME@latest (an azureml: prefix is accepted); latest is
    the most recently created active version.

    Example: envsync show azureml:sklearn@latest --format json
    """
    from envsync import inspect
    from envsync.workspace import ListView

    wanted = inspect.parse_wanted(reference)
    _, workspace = _open(app, target)
    if wanted.version is None:
        found = inspect.latest(workspace.list_versions(wanted.name, ListView.ACTIVE))
    else:
        found = workspace.get_version(wanted.name, wanted.version)
    if found is None:
        if workspace.get_environment(wanted.name) is None:
            raise EnvsyncError(f"no environment '{wanted.name}' in {workspace.target}")
        missing = "no active version" if wanted.version is None else f"no version {wanted.version}"
        raise EnvsyncError(f"environment '{wanted.name}' has {missing} (envsync list --name {wanted.name})")
    click.echo(inspect.render_doc(inspect.show_doc(found), fmt), nl=False)


@cli.command("import")
@click.option("-t", "--target", help="Target workspace from envsync.yaml.")
@click.option("--name", "names", multiple=True, help="Environment to import (repeatable; default: all).")
@click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder to write to."
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.pass_obj
def import_cmd(app: App, target: str | None, names: tuple[str, ...], out: Path, force: bool) -> ExitCode:
    """Write environment YAMLs for environments that exist in a workspace (curated ones never).

    Each gets <name>.yml (its latest active version), <name>.conda.yml for its conda spec and
    <name>/context/ for its build context, so that `envsync plan` then finds nothing to change.

    Example: envsync import --name sklearn --out environments/
    """
    from envsync import importer

    _, workspace = _open(app, target)
    planned = [importer.files_for(v) for v in importer.select(workspace, names)]
    taken = [] if force else importer.existing(out, planned)
    if taken:
        raise EnvsyncError(
            f"{len(taken)} file{'s' * (len(taken) != 1)} already in {out}; nothing imported "
            "(--force overwrites)",
            details=tuple(f"{out / rel}: exists" for rel in taken),
        )
    for item in planned:
        importer.write(workspace, out, item)
        click.echo(f"imported {item.version.name}:{item.version.version} → {out / item.yaml_path}")
    click.echo(f"{len(planned)} environment{'s' * (len(planned) != 1)} imported.")
    return ExitCode.OK


def _check_references(app: App, workspace: Any, result: Any) -> tuple[Any, bool]:
    """Job and deployment references, checked against the workspace and what the plan creates
    (problems go to stderr), and listed under the new versions they pick up."""
    from envsync import references

    config = app.config
    found = references.scan(config.root, config.references, config.environments)
    known = references.workspace_known(result, references.read_versions(workspace, found.references))
    problems = sorted([*found.problems, *references.check(found.references, known)])
    for problem in problems:
        click.echo(str(problem), err=True)
    return references.annotate(result, found.references), bool(problems)


def _with_references(app: App, result: Any) -> Any:
    """Validate's repo-only reference check: names the repo defines, or Azure's curated naming
    (there is no workspace to list versions from)."""
    from dataclasses import replace

    from envsync import references

    config = app.config
    found = references.scan(config.root, config.references, config.environments)
    known = references.repo_known({s.name for s in result.specs})
    problems = {*result.problems, *found.problems, *references.check(found.references, known)}
    return replace(result, problems=tuple(sorted(problems)))


def _approved(auto_approve: bool) -> bool:
    if auto_approve:
        return True
    if not sys.stdin.isatty():
        raise EnvsyncError("not on a terminal: pass --auto-approve to apply without confirmation")
    return click.confirm("Apply these changes?", default=False)


class _Progress:
    """One line per finished change; on a terminal successes share one live line."""

    def __init__(self, total: int):
        self.total, self.done, self.live = total, 0, sys.stdout.isatty()
        self.lock = threading.Lock()

    def __call__(self, result: Any) -> None:
        with self.lock:
            self.done += 1
            line = f"[{self.done}/{self.total}] {result.line()}"
            if self.live and not result.failed:
                click.echo(f"\r\033[K{line}", nl=False)
            else:
                click.echo(("\r\033[K" if self.live else "") + line)

    def finish(self) -> None:
        if self.live and self.done:
            click.echo()


_RATE = click.FloatRange(0, 1, max_open=True)
_REFILL = click.FloatRange(0, min_open=True)


@cli.command("emulator")
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

    from envsync.workspace.emulator import start_emulator

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


@cli.command("validate")
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

    from envsync.spec import load_all

    result = load_all(app.config, paths)
    result = result if paths else _with_references(app, result)
    if fmt == "json":
        problems = [{**vars(p), "severity": p.severity.value} for p in result.problems]
        doc = {"format_version": 1, "valid": not result.errors, "environments": len(result.specs),
               "count": len(problems), "errors": len(result.errors), "problems": problems}
        click.echo(json.dumps(doc, indent=2))
    else:
        for problem in result.problems:
            click.echo(str(problem))
        if not result.errors:
            count = len(result.specs)
            click.echo(f"{count} environment{'s' * (count != 1)} valid")
    return ExitCode.ERROR if result.errors else ExitCode.OK


@cli.group("github")
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
    from envsync import github

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
    from envsync import github

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


def main() -> NoReturn:
    cli.main(prog_name="envsync")
