"""The command line: options → values → library calls → rendered output and an exit code.

This is the only module that prints or exits. Heavy modules are imported inside commands so
`envsync --help` starts fast.
"""

from __future__ import annotations

import gc
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

import click

from envsync import __version__
from envsync.commands.common import App
from envsync.errors import EnvsyncError, ExitCode
from envsync.http.redact import redact
from envsync.text import escape


class Cli(click.Group):
    """Maps every outcome to an exit code, in one place."""

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:
        kwargs["standalone_mode"] = False  # errors come back here instead of exiting inside click
        try:
            code = super().main(*args, **kwargs)
            code = ExitCode.OK if code is None else code
        except EnvsyncError as e:
            # The last guard: messages quote names, files and endpoints' words; redacted and escaped.
            for line in e.details:
                click.echo(escape.terminal(redact(line)), err=True)
            click.echo(f"error: {escape.terminal(redact(str(e)))}", err=True)
            code = e.exit_code
        except click.exceptions.Exit as e:
            code = e.exit_code
        except click.ClickException as e:
            e.show()
            code = ExitCode.ERROR  # click's usage errors default to 2, which means "changes" here
        except (click.Abort, KeyboardInterrupt):
            click.echo("Interrupted.", err=True)
            code = ExitCode.INTERRUPTED
        except Exception as e:  # a bug: keep the traceback, make the exit distinguishable
            click.echo(escape.lines(bug_report(e)), err=True, nl=False)
            code = ExitCode.INTERNAL
        sys.exit(int(code))


@click.group(cls=Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="envsync")
@click.option(
    "-C",
    "--root",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=".",
    help="Run in DIR, the repository root (where envsync.yaml and environments/ live); relative "
    "paths in other options are taken from DIR, as git -C takes them.",
)
@click.option(
    "--no-git",
    is_flag=True,
    envvar="ENVSYNC_NO_GIT",
    help="Let plan, apply and drift run outside a git repository (no commit is recorded, no dirty check).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on stderr while reading and applying.")
@click.pass_context
def cli(ctx: click.Context, root: Path, quiet: bool, no_git: bool) -> None:
    """GitOps for Azure Machine Learning environments.

    Plan and apply the environment YAMLs in git against a workspace, and detect drift.
    """
    ctx.obj = App(root=root.resolve(), quiet=quiet, no_git=no_git)


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def bug_report(error: BaseException) -> str:
    """The traceback of a bug, its exception messages redacted (they may quote URLs with a SAS,
    or a token) but its source lines as they are: redacted code would read as corrupt."""
    parts: list[str] = []
    current: traceback.TracebackException | None = traceback.TracebackException.from_exception(error)
    while current is not None:
        text = "".join(current.stack.format()) + redact("".join(current.format_exception_only()))
        parts.insert(0, "Traceback (most recent call last):\n" + text)
        link = ""
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
        if link:
            parts.insert(0, link)
    return "".join(parts)


def _register() -> None:
    from envsync.commands import (
        applying,
        doctor,
        drifting,
        github,
        inspecting,
        planning,
        policy,
        solving,
        tools,
    )

    for command in (
        planning.plan_cmd,
        applying.apply_cmd,
        drifting.drift_cmd,
        inspecting.list_cmd,
        inspecting.show_cmd,
        inspecting.import_cmd,
        tools.validate_cmd,
        solving.solve_cmd,
        doctor.doctor_cmd,
        policy.policy_group,
        tools.emulator_cmd,
        github.github_group,
    ):
        cli.add_command(command)


_register()


def main() -> NoReturn:
    # A run builds tens of thousands of small objects that live until it exits (a spec, a view
    # and a change per environment) and few cycles: at the collector's default pace, looking
    # for cycles took a fifth of a 10,000-environment plan. Objects from imports never die.
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    cli.main(prog_name="envsync")
