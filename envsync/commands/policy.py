"""policy list: every rule, its id, its severity, and what it protects against."""

from __future__ import annotations

import click

from envsync.commands.common import App
from envsync.errors import ExitCode


@click.group("policy")
def policy_group() -> None:
    """The policy rules validate and plan check (envsync.yaml `policy:`, per target)."""


@policy_group.command("list")
@click.option("-t", "--target", help="Show this target's severities (default: the top-level policy).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def policy_list_cmd(app: App, target: str | None, fmt: str) -> ExitCode:
    """Print every rule: id, default severity, severity in this repository, what it protects against.

    Example: envsync policy list -t prod
    """
    import json

    from envsync.spec.policy.catalog import RULES

    policy = app.config.policy(target)
    if fmt == "json":
        rules = [
            {
                "id": r.id,
                "family": r.family,
                "default": r.default.value,
                "severity": policy.level(r.id).value,
                "protects": r.protects,
                "fix": r.fix,
                "parameters": r.parameters or None,
            }
            for r in RULES
        ]
        click.echo(json.dumps({"format_version": 1, "rules": rules}, indent=2))
        return ExitCode.OK
    width = max(len(r.id) for r in RULES)
    indent = " " * (width + 20)
    click.echo(f"{'rule':<{width}}  {'default':<8} {'here':<8} protects against / fix")
    for r in RULES:
        here = policy.level(r.id).value
        click.echo(f"{r.id:<{width}}  {r.default.value:<8} {here:<8} {r.protects}")
        tuned = f" (tune: {r.parameters})" if r.parameters else ""
        click.echo(f"{indent}fix: {r.fix}{tuned}")
    return ExitCode.OK
