"""The Markdown a CI run posts: the command's report, or what failed and where. Pure.

A pull request's comment must describe its current head. When `plan` fails (an invalid YAML,
a plan error, a workspace it cannot reach), the comment is replaced by a failure section built
from the command's stderr: each problem with its file:line (linked at the commit), and
envsync's one-line error. A plan with errors keeps its plan below that section.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from envsync.gitops import actions, bodies
from envsync.text import escape

_PROBLEM = re.compile(
    r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): (?:(?P<warning>warning): )?(?P<msg>.*)$"
)
_ERROR = "error: "
_OTHER_LINES = 40  # of output that is neither a problem nor the error: the end of a traceback
_WHAT = {"plan": "plan", "drift": "drift report"}


@dataclass(frozen=True)
class Outcome:
    """How one envsync command ended, as the CI step saw it."""

    command: str  # plan or drift
    target: str
    exit_code: int
    report: str = ""  # its Markdown report ('' when it failed before writing one)
    log: Sequence[str] = ()  # its stderr, line by line
    commit: str | None = None

    @property
    def failed(self) -> bool:
        return self.exit_code not in (0, 2)  # 2: changes pending, or drift


def compose(outcome: Outcome, *, artifact: str | None, env: Mapping[str, str]) -> str:
    """The body to post, within GitHub's limit (leaving room for the client's marker)."""
    what = _WHAT.get(outcome.command, "report")
    note = bodies.truncation_note(what, artifact=artifact, run_url=actions.run_url(env))
    body = bodies.join(failure(outcome, env), outcome.report) if outcome.failed else outcome.report
    return bodies.fit(
        body or f"envsync {outcome.command} wrote no report.\n",
        note,
        limit=bodies.MAX_BODY - bodies.MARKER_ROOM,
    )


def failure(outcome: Outcome, env: Mapping[str, str]) -> str:
    """What failed, where (file:line), and envsync's error, as Markdown."""
    problems, errors, other = _split(outcome.log)
    crashed = outcome.exit_code == 3
    title = "crashed" if crashed else ("found errors" if outcome.report else "failed")
    lines = [f"### :x: envsync {outcome.command} {title} for {escape.code(outcome.target)}", ""]
    if outcome.commit:
        lines += [f"Commit {escape.code(outcome.commit)}.", ""]
    headline = (
        escape.markdown(errors[-1])
        if errors
        else f"{escape.code(f'envsync {outcome.command}')} exited with {outcome.exit_code}."
    )
    if not errors and outcome.report and not crashed:
        headline = f"The {_WHAT.get(outcome.command, 'report')} has errors."
    lines += [f"**{headline}**", ""]
    lines += [_bullet(p, outcome.commit, env) for p in problems]
    if other and (crashed or not problems):
        lines += ["", escape.fence("\n".join(map(escape.terminal, other[-_OTHER_LINES:])))]
    lines += ["", _advice(outcome, crashed)]
    return "\n".join(lines) + "\n"


def _advice(outcome: Outcome, crashed: bool) -> str:
    if crashed:
        return "This is a bug in envsync: the traceback is in the job log. Please report it."
    if outcome.report:
        return f"The {outcome.command} below has errors; apply refuses it until they are fixed."
    return "Nothing was planned for this commit: fix the problems above and push again."


@dataclass(frozen=True)
class _Problem:
    path: str
    line: int
    col: int
    message: str
    warning: bool


def _split(log: Sequence[str]) -> tuple[list[_Problem], list[str], list[str]]:
    problems: list[_Problem] = []
    errors: list[str] = []
    other: list[str] = []
    for raw in log:
        line = raw.rstrip("\r\n")
        found = actions.parse(line)
        text = found.message if found else line
        match = _PROBLEM.match(text)
        if match:
            warning = bool(match["warning"]) or (found is not None and found.kind == "warning")
            problems.append(
                _Problem(match["path"], int(match["line"]), int(match["col"]), match["msg"], warning)
            )
        elif text.startswith(_ERROR):
            errors.append(text[len(_ERROR) :])
        elif found is not None:
            errors.append(found.message)
        elif line.strip():
            other.append(line)
    return problems, errors, other


def _bullet(problem: _Problem, commit: str | None, env: Mapping[str, str]) -> str:
    where = escape.code(f"{problem.path}:{problem.line}:{problem.col}")
    link = actions.blob_url(problem.path, problem.line, commit, env)
    mark = ":warning:" if problem.warning else ":x:"
    return f"- {mark} {f'[{where}]({link})' if link else where} {escape.markdown(problem.message)}"
