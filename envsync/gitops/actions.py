"""GitHub Actions' side of a run: annotations (workflow commands), the event, and links.

An annotation is a line `::error file=F,line=L,col=C,title=T::MESSAGE` on stdout or stderr;
the runner shows it on the pull request's diff at that line. Values are escaped the way the
runner unescapes them (actions/toolkit's command.ts).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from envsync.spec.problems import Problem, Severity
from envsync.text.escape import command_data, command_property

PR_EVENTS = frozenset({"pull_request", "pull_request_target"})
_COMMAND = re.compile(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$")


def active(env: Mapping[str, str] = os.environ) -> bool:
    """Whether this process runs in a GitHub Actions job."""
    return env.get("GITHUB_ACTIONS") == "true"


def annotation(problem: Problem, *, title: str, path: str | None = None) -> str:
    """`problem` as a workflow command; `path` (repository-relative) replaces problem.path.

    The message repeats the location, so the log line reads on its own as well."""
    kind = "warning" if problem.severity is Severity.WARNING else "error"
    file = path or problem.path
    at = f"line={problem.line},col={problem.col}"
    where = f"file={command_property(file)},{at},title={command_property(title)}"
    rule = f" [{problem.rule}]" if problem.rule else ""  # a policy rule's id, as validate prints it
    message = f"{file}:{problem.line}:{problem.col}: {problem.message}{rule}"
    return f"::{kind} {where}::{command_data(message)}"


@dataclass(frozen=True)
class Annotation:
    """A workflow command read back from a log."""

    kind: str  # error, warning or notice
    message: str
    file: str | None = None
    line: int | None = None


def parse(line: str) -> Annotation | None:
    """The annotation on a log line, or None when the line is not one."""
    match = _COMMAND.match(line.rstrip("\r\n"))
    if match is None:
        return None
    props = dict(p.split("=", 1) for p in (match.group(2) or "").split(",") if "=" in p)
    values = {k.strip(): _unescape(v) for k, v in props.items()}
    line_no = values.get("line", "")
    return Annotation(
        kind=match.group(1),
        message=_unescape(match.group(3)),
        file=values.get("file"),
        line=int(line_no) if line_no.isdigit() else None,
    )


def repo_path(path: str, root: Path, env: Mapping[str, str] = os.environ) -> str:
    """`path` (relative to envsync's root) relative to the checkout, as annotations need it
    when envsync runs in a subfolder (the action's working-directory)."""
    workspace = env.get("GITHUB_WORKSPACE")
    if not workspace:
        return path
    full = (root / path).resolve()
    base = Path(workspace).resolve()
    return full.relative_to(base).as_posix() if full.is_relative_to(base) else path


def event(env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The webhook payload that started the workflow ({} outside Actions or when unreadable)."""
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def pull_request_head(env: Mapping[str, str] = os.environ) -> str | None:
    """The pull request's head commit, for pull-request events."""
    if env.get("GITHUB_EVENT_NAME") not in PR_EVENTS:
        return None
    head = (event(env).get("pull_request") or {}).get("head") or {}
    sha = head.get("sha")
    return sha if isinstance(sha, str) and sha else None


def shown_commit(commit: str | None, env: Mapping[str, str] = os.environ) -> str | None:
    """The commit a report names: on a pull request, actions/checkout checks out GitHub's
    merge commit (GITHUB_SHA); people know the pull request by its head commit."""
    head = pull_request_head(env)
    if head and commit and commit == env.get("GITHUB_SHA"):
        return head
    return commit


def head_commit(env: Mapping[str, str] = os.environ) -> str | None:
    """The commit a run is for: a pull request's head, else GITHUB_SHA."""
    return pull_request_head(env) or env.get("GITHUB_SHA") or None


def run_url(env: Mapping[str, str] = os.environ) -> str | None:
    """The workflow run's page, where its artifacts are."""
    server, repo, run = (env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    return f"{server.rstrip('/')}/{repo}/actions/runs/{run}" if server and repo and run else None


def blob_url(
    path: str, line: int | None, commit: str | None, env: Mapping[str, str] = os.environ
) -> str | None:
    """A link to `path` at `commit`, at `line`."""
    server, repo = env.get("GITHUB_SERVER_URL"), env.get("GITHUB_REPOSITORY")
    if not (server and repo and commit) or commit.endswith("-dirty"):
        return None
    # A file name may hold spaces, parentheses or `#`: quoted, it stays one link target.
    return f"{server.rstrip('/')}/{repo}/blob/{commit}/{quote(path)}" + (f"#L{line}" if line else "")


def _unescape(value: str) -> str:
    for escaped, plain in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        value = value.replace(escaped, plain)
    return value
