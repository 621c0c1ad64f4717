"""list, show and import: inspect a workspace and adopt what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from envsync.commands.common import (
    App,
    Opened,
    open_target,
)
from envsync.commands.paths import RootPath
from envsync.errors import EnvsyncError, ExitCode
from envsync.text import escape

if TYPE_CHECKING:
    from envsync.inventory.importer import Imported
    from envsync.plan.usage import Usage


@click.command("list")
@click.option("-t", "--target", help="Target workspace from envsync.yaml.")
@click.option("--name", help="List the versions of this environment instead.")
@click.option("--archived", is_flag=True, help="Include archived environments and versions.")
@click.option("--curated", is_flag=True, help="Include Microsoft's curated environments.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--usage", is_flag=True, help="Name the live deployments that run each version (reads them).")
@click.pass_obj
def list_cmd(
    app: App, target: str | None, name: str | None, archived: bool, curated: bool, fmt: str, usage: bool
) -> None:
    """List the workspace's environments (name, latest version, created), like az ml environment list.

    Example: envsync list --name sklearn --archived    |    envsync list --usage
    """
    from envsync.inventory import inspect
    from envsync.workspace import ListView

    opened = open_target(app, target)
    workspace, live = opened.workspace, _live(opened) if usage else None
    view = ListView.ALL if archived else ListView.ACTIVE
    if name:
        versions = workspace.list_versions(name, view)
        if not versions and workspace.get_environment(name) is None:
            raise EnvsyncError(f"no environment '{name}' in {workspace.target}")
        rows, columns = inspect.version_rows(versions, live), ("name", "version", "created", "archived")
        docs: list[Any] = [inspect.with_users(inspect.show_doc(v), live) for v in versions]
    else:
        shown = inspect.visible(workspace.list_environments(view), curated=curated, archived=archived)
        rows = inspect.environment_rows(shown, _created(workspace, shown, app.config.concurrency), live)
        columns, docs = ("name", "latest_version", "created", "archived"), rows
    shown_columns = (columns if archived else columns[:-1]) + (("used_by",) if live else ())
    text = inspect.render_doc(docs, "json") if fmt == "json" else inspect.table(rows, shown_columns)
    click.echo(text, nl=False)


def _live(opened: Opened) -> Usage:
    """The target's live deployments, by what they run; a registry has none to read."""
    from envsync.plan.run import live_usage

    if opened.target.kind == "registry":
        raise EnvsyncError(
            f"target {opened.target.name} is a registry: the workspace deployments that run its "
            "versions cannot be seen from it; list --usage against a workspace target"
        )
    return live_usage(opened.target, opened.workspace)


def _created(workspace: Any, containers: list[Any], concurrency: int) -> dict[str, str]:
    """When each container's latest version was created (containers do not say)."""
    from concurrent.futures import ThreadPoolExecutor

    def created(c: Any) -> str:
        found = workspace.get_version(c.name, c.latest_version) if c.latest_version else None
        return str(found.created) if found else ""

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return dict(zip((c.name for c in containers), pool.map(created, containers), strict=True))


@click.command("show")
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
    from envsync.inventory import inspect
    from envsync.workspace import ListView

    wanted = inspect.parse_wanted(reference)
    opened = open_target(app, target)
    workspace = opened.workspace
    if wanted.version is None:
        found = inspect.latest(workspace.list_versions(wanted.name, ListView.ACTIVE))
    else:
        found = workspace.get_version(wanted.name, wanted.version)
    if found is None:
        if workspace.get_environment(wanted.name) is None:
            raise EnvsyncError(f"no environment '{wanted.name}' in {workspace.target}")
        missing = "no active version" if wanted.version is None else f"no version {wanted.version}"
        raise EnvsyncError(f"environment '{wanted.name}' has {missing} (envsync list --name {wanted.name})")
    live = None if opened.target.kind == "registry" else _live(opened)
    click.echo(inspect.render_doc(inspect.with_users(inspect.show_doc(found), live), fmt), nl=False)


def _not_in_git(app: App, planned: list[Imported]) -> list[Imported]:
    from envsync.gitops.index import relative_posix

    defined = {s.name: s.source for s in app.load_all().specs}
    for name in (i.version.name for i in planned if i.version.name in defined):
        shown = relative_posix(defined[name], app.root)
        click.echo(escape.terminal(f"skipped {name}: git already defines it in {shown}"))
    return [i for i in planned if i.version.name not in defined]


@click.command("import")
@click.option("-t", "--target", help="Target workspace from envsync.yaml.")
@click.option("--name", "names", multiple=True, help="Environment to import (repeatable; default: all).")
@click.option(
    "--out", required=True, type=RootPath(file_okay=False, path_type=Path), help="Folder to write to."
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.pass_obj
def import_cmd(app: App, target: str | None, names: tuple[str, ...], out: Path, force: bool) -> ExitCode:
    """Write environment YAMLs for environments that exist in a workspace (curated ones never).

    Each gets <name>.yml (its latest active version), <name>.conda.yml for its conda spec and
    <name>/context/ for its build context, so that `envsync plan` then finds nothing to change.

    Example: envsync import --name sklearn --out environments/
    """
    from envsync.inventory import importer

    workspace = open_target(app, target).workspace
    planned = importer.plan_files(workspace, names, out)
    if not names:  # everything: but what git already defines is git's, and stays as it is
        planned = _not_in_git(app, planned)
    taken = [] if force else importer.existing(out, planned)
    if taken:
        raise EnvsyncError(
            f"{len(taken)} file{'s' * (len(taken) != 1)} already in {out}; nothing imported "
            "(--force overwrites)",
            details=tuple(f"{out / rel}: exists" for rel in taken),
        )
    for item in planned:
        importer.write(workspace, out, item)
        for note in item.notes:
            click.echo(escape.terminal(f"note: {note}"), err=True)
        ref = f"{item.version.name}:{item.version.version}"
        click.echo(escape.terminal(f"imported {ref} → {out / item.yaml_path}"))
    click.echo(f"{len(planned)} environment{'s' * (len(planned) != 1)} imported.")
    return ExitCode.OK
