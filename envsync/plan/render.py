"""Plan → text (Terraform-like), Markdown (a PR comment) and JSON. Pure: strings out."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from envsync import __version__
from envsync.plan import context_lines, findings, lines
from envsync.plan.conda_lines import conda_diff, packages
from envsync.plan.diff import tag_changes
from envsync.plan.lines import Changed, Detail
from envsync.plan.model import Action, Change, ContextFiles, Plan
from envsync.plan.words import plural
from envsync.text import escape

FORMAT_VERSION = 2  # 2: a change's context_files, a partial plan's selection
READABLE_VERSIONS = (1, 2)  # 1 lacks only those
UNFOLDED_CHANGES = 3  # a Markdown plan of at most this many changes shows them open

_TITLES = {
    Action.CREATE: "new environment",
    Action.NEW_VERSION: "new version",
    Action.UPDATE: "update in place",
    Action.RESTORE: "restore: un-archive",
    Action.NOOP: "no changes",
    Action.ORPHAN: "orphan: archived only with --prune",
    Action.ERROR: "error",
}
_COLOURS = {
    Action.CREATE: "green",
    Action.NEW_VERSION: "green",
    Action.UPDATE: "yellow",
    Action.RESTORE: "yellow",
    Action.ORPHAN: "magenta",
    Action.ERROR: "red",
    Action.NOOP: "white",
}
_LINE_COLOURS = {"+": "green", "-": "red", "~": "yellow", "!": "red"}

Style = Callable[[str, str], str]


@dataclass(frozen=True)
class Pruning:
    """What `apply --prune` will do with orphans, for the plan it prints before applying."""

    prune: bool = False
    protected: frozenset[str] = frozenset()

    def title(self, change: Change) -> str:
        if change.used_by:
            return "orphan: kept, a live deployment runs it"
        if not self.prune:
            return _TITLES[Action.ORPHAN]
        if change.name in self.protected:
            return "orphan: protected in envsync.yaml, kept"
        return "orphan: will be archived"

    def counted(self, plan: Plan) -> str:
        orphans = [c for c in plan.changes if c.action is Action.ORPHAN]
        used = sum(1 for c in orphans if c.used_by)
        in_use = f"{used} kept: in use by deployments" if used else ""
        if not self.prune:
            return plural(len(orphans), "orphan") + (f" ({in_use})" if used else "")
        kept = sum(1 for c in orphans if c.name in self.protected and not c.used_by)
        notes = [n for n in (f"{plural(kept, 'protected orphan')} kept" if kept else "", in_use) if n]
        archived = len(orphans) - kept - used
        return f"{archived} to archive" + (f" ({'; '.join(notes)})" if notes else "")


NO_PRUNE = Pruning()


def summary(plan: Plan, pruning: Pruning = NO_PRUNE) -> str:
    partial = f" Partial: {plan.selection.describe()}." if plan.selection.partial else ""
    return _counts(plan, pruning) + findings.summary(plan) + partial


def _counts(plan: Plan, pruning: Pruning) -> str:
    if not plan.has_changes and not plan.errors:
        return "No changes."
    new, restore = plan.count(Action.NEW_VERSION), plan.count(Action.RESTORE)
    # What a prune archives comes first: the count a reviewer must not miss.
    text = (
        f"Plan: {pruning.counted(plan)}, {plan.count(Action.CREATE)} to create, "
        f"{plural(new, 'new version')}, {plan.count(Action.UPDATE)} to update"
        + (f", {restore} to restore" if restore else "")
        + "."
    )
    errors = len(plan.errors)
    return text + (f" {plural(errors, 'error')}." if errors else "")


def text(plan: Plan, *, verbose: bool = False, color: bool = False, pruning: Pruning = NO_PRUNE) -> str:
    style: Style = _click_style if color else _plain
    shown = [c for c in plan.changes if verbose or c.action is not Action.NOOP]
    lines = [f"Target: {escape.terminal(plan.target)}", ""]
    if plan.selection.partial:  # the patterns are the operator's; escaped with the other lines
        lines += [style(escape.terminal(plan.selection.warning()), "yellow"), ""]
    for change in shown:
        lines += _block(change, style, pruning)
        lines.append("")
    lines += findings.text_lines(plan)
    lines.append(style(summary(plan, pruning), "bold"))
    if plan.records_to_write:
        lines.append(
            f"{plan.records_to_write} unchanged environment(s) lack an up-to-date last-applied record; "
            "apply writes it (no version changes), so later plans need not read their versions."
        )
    # Plain lines are escaped here, all at once; coloured ones before their colour is added.
    return (escape.block(lines) if style is _plain else "\n".join(lines)) + "\n"


def markdown(plan: Plan) -> str:
    """The whole plan for a pull-request comment: one <details> block per change. Posting cuts
    it to GitHub's limit between those blocks (`gitops.bodies`)."""
    head = f"### envsync plan for {escape.code(plan.target)}\n\n**{summary(plan)}**\n"
    if plan.selection.partial:
        head += f"\n> [!WARNING]\n> {plan.selection.warning(code=escape.code)}\n"
    if plan.commit:
        head += f"\nCommit {escape.code(plan.commit)}.\n"
    head += findings.markdown(plan)
    shown = [c for c in plan.changes if c.action is not Action.NOOP]
    unfolded = len(shown) <= UNFOLDED_CHANGES  # a short plan reads at a glance; a long one folds
    return head + "".join(_markdown_section(c, unfolded=unfolded) for c in shown)


def to_json(plan: Plan) -> str:
    doc = {
        "format_version": FORMAT_VERSION,
        "envsync_version": __version__,
        "target": plan.target,
        "commit": plan.commit,
        "created": plan.created,
        "summary": {a.value: plan.count(a) for a in Action},
        "selection": plan.selection.to_json(),
        "changes": [_change_json(c) for c in plan.changes],
        **findings.to_json(plan),
    }
    return json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n"


def _change_json(change: Change) -> dict[str, Any]:
    doc = asdict(change)
    doc["action"] = change.action.value
    doc["diff"] = list(change.diff)
    return doc


def _markdown_section(change: Change, *, unfolded: bool = False) -> str:
    heading = NO_PRUNE.title(change) if change.action is Action.ORPHAN else _TITLES[change.action]
    name = escape.html(f"{change.name}:{change.version}")
    title = f"{change.action.symbol} <code>{name}</code> {escape.html(heading)}"
    body = escape.block(lines.markdown(_details(change)))
    source = f"\n\n{escape.code(change.source)}" if change.source else ""
    details = "<details open>" if unfolded else "<details>"
    return f"\n{details}<summary>{title}</summary>{source}\n\n{escape.fence(body, 'diff')}\n</details>\n"


def _block(change: Change, style: Style, pruning: Pruning) -> list[str]:
    title = pruning.title(change) if change.action is Action.ORPHAN else _title(change)
    head = f"{change.action.symbol} {change.name}:{change.version}  ({title})"
    source = f"  {change.source}" if change.source else ""
    if style is _plain:  # no colour: 10,000 new environments print 90,000 lines, escaped by `text`
        return [head + source, *("    " + line for line in lines.terminal(_details(change)))]
    # Each line is escaped whole: a value's line break or escape sequence is shown, never obeyed.
    return [style(escape.terminal(head), _COLOURS[change.action]) + escape.terminal(source)] + [
        "    " + _colour_line(escape.terminal(line), style) for line in lines.terminal(_details(change))
    ]


def latest_move(change: Change) -> str:
    """What archiving `change` (its environment's latest active version) does to @latest."""
    where = f"azureml:{change.name}@latest"
    if change.latest_after:
        return f"with --prune, {where} moves from {change.version} to {change.latest_after}"
    return f"with --prune, {where} resolves to nothing (no active version is left)"


def _title(change: Change) -> str:
    title = _TITLES[change.action]
    if change.action is Action.NEW_VERSION and change.base_version:
        title += f", latest is {change.base_version}"
    return title


def _details(change: Change) -> Iterator[Detail]:
    if change.action is Action.ERROR:
        yield f"! {change.message}"
        return
    if change.message:
        yield f"# {change.message}"
    kept = "kept: used by" if change.action is Action.ORPHAN else "running in"
    yield from (f"# {kept} {deployment}" for deployment in change.used_by)
    if change.latest_after is not None:
        yield "# " + latest_move(change)
    yield from (f"# used by {where}" for where in change.references)
    if change.action is Action.NOOP:  # plan -v: what is there, unchanged
        yield from _listing(change.after or change.before or {}, " ")
    elif change.action is Action.CREATE or (change.before is None and change.after is not None):
        yield from _listing(change.after or {}, "+", change.context_files)
    elif change.action is Action.ORPHAN:
        yield from _listing(change.before or {}, "-")
    else:
        yield from _field_diffs(change)


def _listing(view: Mapping[str, Any], symbol: str, files: ContextFiles | None = None) -> Iterator[Detail]:
    for key in ("image", "build", "os_type", "inference_config", "description"):
        if key == "build" and view.get(key):
            yield from context_lines.listing(view[key], files, symbol)
        elif view.get(key) not in (None, "", {}):
            yield f"{symbol} {key}: {_short(view[key])}"
    if view.get("conda"):
        yield "  conda:"
        yield from (f"    {symbol} {spec}" for spec in packages(view["conda"]).values())
    for key, value in (view.get("tags") or {}).items():
        yield f"{symbol} tags.{key}: {_short(value)}"


def _field_diffs(change: Change) -> Iterator[Detail]:
    before, after = change.before or {}, change.after or {}
    top = sorted({f.split(".")[0] for f in change.diff})
    for key in top:
        if key == "build" and before.get(key) and after.get(key):
            yield from context_lines.changed(before[key], after[key], change.context_files)
        elif key == "archived":
            yield Changed("archived", "true", "false")
        elif key == "conda":
            yield "  conda:"
            yield from conda_diff(before.get(key), after.get(key))
        elif key == "tags":
            for symbol, tag, old, new in tag_changes(before.get("tags", {}), after.get("tags", {})):
                yield _change_line(symbol, f"tags.{tag}", old, new)
        else:
            yield _change_line("~", key, before.get(key), after.get(key))


def _change_line(symbol: str, key: str, old: Any, new: Any) -> Detail:
    if symbol == "+":
        return f"+ {key}: {_short(new)}"
    if symbol == "-":
        return f"- {key}: {_short(old)}"
    return Changed(key, _short(old), _short(new))


def _short(value: Any, width: int = 100) -> str:
    if isinstance(value, str) and value.isprintable() and '"' not in value and "\\" not in value:
        shown = f'"{value}"'  # what json.dumps makes of it, without its cost
    else:
        shown = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def _colour_line(line: str, style: Style) -> str:
    colour = _LINE_COLOURS.get(line.lstrip()[:1])
    return style(line, colour) if colour else line


def _plain(value: str, _colour: str) -> str:
    return value


def _click_style(value: str, colour: str) -> str:
    import click

    if colour == "bold":
        return click.style(value, bold=True)
    return click.style(value, fg=colour)
