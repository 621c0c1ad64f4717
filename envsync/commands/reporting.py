"""How commands report problems (plain lines or GitHub annotations) and write report files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from envsync.errors import SpecError

if TYPE_CHECKING:
    from envsync.commands.common import App
    from envsync.plan.model import Plan
    from envsync.spec.model import EnvironmentSpec
    from envsync.spec.problems import Problem


def annotating(fmt: str | None) -> bool:
    """GitHub annotations: asked for (`--format github`), or running in GitHub Actions."""
    from envsync.gitops import actions

    return fmt == "github" or actions.active()


def echo_problems(app: App, problems: Iterable[Problem], *, annotate: bool, title: str, err: bool) -> None:
    """Each problem as `path:line:col: message`, or as an annotation on that line of the diff."""
    from envsync.gitops import actions

    lines = [
        actions.annotation(p, title=title, path=actions.repo_path(p.path, app.config.root))
        if annotate
        else str(p)
        for p in problems
    ]
    if lines:  # one write: thousands of policy warnings cost a flush each otherwise
        click.echo("\n".join(lines), err=err)


def load_checked(
    app: App, *, annotate: bool, title: str, paths: Sequence[Path] = (), undone: str = "planned"
) -> tuple[EnvironmentSpec, ...]:
    """Git's environments (or those under `paths`); any invalid file stops the command
    (nothing `undone`: planned, applied, solved).

    Annotating, warnings are annotated too and the problems go to stderr as annotations
    instead of as the error's detail lines."""
    loaded = app.load_all(paths)
    if annotate:
        echo_problems(app, loaded.problems, annotate=True, title=title, err=True)
    if loaded.errors:
        count = len(loaded.errors)
        raise SpecError(
            f"{count} problem{'s' * (count != 1)} in environment files; nothing {undone}",
            details=() if annotate else tuple(str(p) for p in loaded.problems),
        )
    return loaded.specs


def plan_problems(result: Plan, specs: Sequence[EnvironmentSpec]) -> list[Problem]:
    """The plan's errors (a pinned version whose content changed, say) at their YAML's name."""
    from envsync.spec.problems import Problem

    lines = {s.name: s.line for s in specs}
    return [
        Problem(
            c.source, lines.get(c.name, 1), 1, f"{c.name}:{c.version}: {c.message or 'cannot be planned'}"
        )
        for c in result.errors
        if c.source
    ]


def write_reports(folder: Path, stem: str, texts: Mapping[str, str], summary: str) -> None:
    """`<stem>.txt`, `<stem>.md`, `<stem>.json` (whichever `texts` has) and `<stem>.summary`
    in `folder`: the whole report, for a workflow artifact."""
    folder.mkdir(parents=True, exist_ok=True)
    for suffix, text in texts.items():
        (folder / f"{stem}.{suffix}").write_text(text, encoding="utf-8")
    (folder / f"{stem}.summary").write_text(summary + "\n", encoding="utf-8")
