"""validate, the emulator, and the GitHub reporting commands."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from envsync.commands.common import (
    App,
    with_references,
)
from envsync.commands.paths import RootPath
from envsync.errors import ExitCode
from envsync.plan.words import plural

if TYPE_CHECKING:
    from envsync.spec.load import LoadResult

_RATE = click.FloatRange(0, 1, max_open=True)
_REFILL = click.FloatRange(0, min_open=True)


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port; 0 (default) picks a free one.")
@click.option(
    "--db", type=RootPath(dir_okay=False, path_type=Path), help="SQLite state file (default: a temp file)."
)
@click.option("--latency-ms", type=click.IntRange(0), default=0, help="Delay added to every request.")
@click.option("--fault-rate", type=_RATE, default=0.0, help="Share of requests failing: 500, 503 or a reset.")
@click.option("--throttle-rate", type=_RATE, default=0.0, help="Share of requests answered 429.")
@click.option("--retry-after", type=click.IntRange(0), default=1, help="Retry-After seconds (default 1).")
@click.option("--page-size", type=click.IntRange(1), default=100, help="Items per list page (default 100).")
@click.option(
    "--seed", type=int, help="Seed for the fault and throttle draws (keyed by request order: a seed replays)."
)
@click.option(
    "--secrets-type",
    type=click.Choice(["Sas", "AccountKey", "None"]),
    default="Sas",
    show_default=True,
    help="The datastore's credentials: what listSecrets returns; None: identity-based (listSecrets "
    "refused, blobs take a bearer token only, which needs --tls or an HTTPS --blob-endpoint).",
)
@click.option(
    "--blob-endpoint",
    metavar="URL",
    help="Hand out this blob service in the datastore (an account URL, e.g. Azurite's "
    "http://127.0.0.1:10000/devstoreaccount1) instead of the built-in one.",
)
@click.option(
    "--blob-account-key",
    envvar="ENVSYNC_EMULATOR_BLOB_KEY",
    help="The --blob-endpoint account's key (default: Azurite's published devstoreaccount1 key).",
)
@click.option(
    "--tls", is_flag=True, help="Serve HTTPS with a certificate made at start; prints its CA bundle."
)
@click.option(
    "--realism",
    is_flag=True,
    help="Answer as the service does (docs/real-service.md): nulls never sent, condaFile as JSON "
    "text, 201 + Location on updates, timestamp nextVersions, contextUris in datastore form, "
    "another api-version in nextLink, registry creates polled on another origin, lagging lists.",
)
@click.option(
    "--list-lag-ms",
    type=click.IntRange(0),
    help="Lists show the state of this long ago (default 2000 with --realism, else 0).",
)
@click.option(
    "--isolate/--shared",
    default=True,
    help="Each ARM workspace id its own state, as in Azure (the default); --shared: one state for all.",
)
@click.option("--echo-secrets", is_flag=True, help="Error answers quote the request's token and SAS back.")
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
@click.option(
    "--operation-seconds",
    type=click.FloatRange(0),
    default=0.0,
    help="How long a registry write stays InProgress before it ends (default 0).",
)
@click.option(
    "--operation-failure-rate", type=_RATE, default=0.0, help="Share of registry operations that end Failed."
)
@click.option(
    "--principal-actions",
    multiple=True,
    default=("*",),
    help="ARM action patterns the caller may perform (repeatable; default *): others get 403.",
)
@click.option("--principal-not-actions", multiple=True, help="ARM action patterns taken out of those.")
@click.option(
    "--missing",
    type=click.Choice(["subscription", "resource-group", "workspace"]),
    help="Answer every request as if this part of the target did not exist (404).",
)
@click.option(
    "--public-network-access",
    type=click.Choice(["Enabled", "Disabled"]),
    default="Enabled",
    show_default=True,
    help="Disabled: asset requests are refused as from outside the workspace's private link.",
)
@click.option(
    "--storage-refusal",
    type=click.Choice(["role", "firewall"]),
    help="Storage refuses Azure AD tokens (no data role), or everyone (a firewall).",
)
def emulator_cmd(host: str, port: int, db: Path | None, **options: Any) -> ExitCode:
    """Serve an Azure ML (ARM) emulator on 127.0.0.1 until interrupted.

    Point a target's `endpoint` (or ENVSYNC_ARM_ENDPOINT) at the printed URL. It serves
    workspaces and registries (their writes are long-running operations, their uploads go
    through the registry data plane) under any subscription, resource group and name. A
    --blob-endpoint served over HTTPS is verified against REQUESTS_CA_BUNDLE.

    Example: envsync emulator --port 8950 --throttle-rate 0.1 --seed 1    |    envsync emulator --arm-throttle
    |    envsync emulator --tls --secrets-type None    |    envsync emulator --principal-actions '*/read'
    """
    import signal

    from envsync.emulator.server import start_emulator
    from envsync.http.session import ca_bundle

    handle = start_emulator(db, host=host, port=port, blob_ca_bundle=ca_bundle(), **options)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"Emulator listening on {handle.url}")
    if handle.ca_bundle is not None:
        click.echo(f"CA bundle: {handle.ca_bundle}")  # clients trust it by REQUESTS_CA_BUNDLE
    try:
        while not stop.wait(0.5):
            pass
    finally:
        handle.stop()
    return ExitCode.OK


@click.command("validate")
@click.argument("paths", nargs=-1, type=RootPath(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    help="text, json, or github: GitHub annotations (the default in GitHub Actions, else text).",
)
@click.option("-t", "--target", help="Check this target's policy (default: the top-level policy).")
@click.pass_obj
def validate_cmd(app: App, paths: tuple[Path, ...], fmt: str | None, target: str | None) -> ExitCode:
    """Check environment YAMLs (default: envsync.yaml's environments globs). Exit 1 on errors.

    PATHS may be files or folders, relative to the repository root. Prints every problem as
    path:line:col: message (in GitHub Actions, as an annotation on that line of the pull
    request's diff), or a one-line summary when there are no errors. Policy findings end with
    their rule id; JSON also lists the ones an inline comment suppresses.

    Example: envsync validate environments/pytorch-train.yml --format json    |    envsync validate -t prod
    """
    import json

    from envsync.commands.reporting import annotating, echo_problems
    from envsync.plan import findings
    from envsync.spec.problems import problem_json, suppressed_json

    key = app.config.policy_key(target)
    result = app.load_all(paths).with_policy(key)
    result = result if paths else with_references(app, result, key)
    if fmt == "json":
        problems = [problem_json(p) for p in result.problems]
        doc = {
            "format_version": 1,
            "valid": not result.errors,
            "environments": len(result.specs),
            "files": result.files,
            "count": len(problems),
            "errors": len(result.errors),
            "warnings": len(result.warnings),
            "problems": problems,
            "suppressed": [suppressed_json(s) for s in result.suppressed],
        }
        click.echo(json.dumps(doc, indent=2))
    else:
        annotate = fmt != "text" and annotating(fmt)
        if annotate:
            echo_problems(app, result.problems, annotate=True, title="envsync validate", err=False)
        elif result.problems:  # one write: thousands of policy warnings cost a flush each otherwise
            click.echo("\n".join(findings.line(p) for p in result.problems))
        click.echo(_closing(result))
    return ExitCode.ERROR if result.errors else ExitCode.OK


def _closing(result: LoadResult) -> str:
    """`2 errors, 5 warnings in 31 files`; `5 environments valid` when nothing was found."""
    valid = plural(len(result.specs), "environment") + " valid"
    if not result.problems:
        return valid
    counts = f"{plural(len(result.errors), 'error')}, {plural(len(result.warnings), 'warning')}"
    counts += f" in {plural(result.files, 'file')}"
    return counts if result.errors else f"{counts}; {valid}"
