"""solve: can each environment's conda spec (and its pip section) be installed?"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import click

from envsync.commands.common import App
from envsync.errors import ExitCode

if TYPE_CHECKING:
    from envsync.spec.problems import Problem


@click.command("solve")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("-t", "--target", help="Solve this target's environments (its `environments` globs).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    help="text, json, or github: GitHub annotations (the default in GitHub Actions, else text).",
)
@click.option(
    "--lock", is_flag=True, help="Write each solvable spec's solve beside it as NAME.conda-lock.yml."
)
@click.option(
    "--update",
    is_flag=True,
    help="Solve again, ignoring remembered solves (with --lock: rewrite every lock).",
)
@click.pass_obj
def solve_cmd(
    app: App, paths: tuple[Path, ...], fmt: str | None, target: str | None, lock: bool, update: bool
) -> ExitCode:
    """Solve each conda spec for its image's platform, and its pip section for the Python solved.

    The channels are the spec's (solve.conda in envsync.yaml maps them to mirrors), the pip
    index solve.pip's. Prints per environment `solvable` and the solved versions, or the pins
    that cannot be installed (together) at their line; exit 1 when any cannot. Unchanged
    environments are remembered under .envsync/solve/ and not solved again.

    Example: envsync solve environments/sklearn-cpu.yml    |    envsync solve --lock --update
    """
    from envsync.commands.reporting import annotating, load_checked
    from envsync.solve import render
    from envsync.solve.lock import write_locks
    from envsync.solve.run import solve_specs

    config = app.config
    annotate = fmt != "text" and annotating(fmt)
    specs = load_checked(app, annotate=annotate, title="envsync solve", paths=paths, undone="solved")
    if target is not None:
        specs = config.specs_for(config.target(target), specs)
    run = solve_specs(specs, config.solve, config.root, update=update)
    locks = write_locks(run, config.root, rewrite=update) if lock else None
    if fmt == "json":
        click.echo(render.to_json(run, locks=locks), nl=False)
    else:
        shown = partial(_annotation, config.root) if annotate else None
        click.echo(render.text(run, annotate=shown, locks=locks), nl=False)
    return ExitCode.ERROR if run.unsolvable else ExitCode.OK


def _annotation(root: Path, problem: Problem) -> str:
    from envsync.gitops import actions

    return actions.annotation(problem, title="envsync solve", path=actions.repo_path(problem.path, root))
