"""A DriftReport as text, Markdown (the drift issue) and JSON. Pure: strings out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from envsync.plan.drift import DriftItem, DriftReport
from envsync.text import escape

FORMAT_VERSION = 1


def heal_command(report: DriftReport) -> str:
    """The command that repairs every healable finding of `report`."""
    command = f"envsync apply --refresh -t {report.target}"
    return f"{command} {report.selection.describe()}" if report.selection.partial else command


def summary(report: DriftReport) -> str:
    if not report.drifted:
        return f"No drift: {report.target} matches git."
    count, healable = len(report.items), len(report.healable)
    return (
        f"Drift: {count} difference{'s' * (count != 1)} between git and {report.target}: "
        f"{healable} healable, {count - healable} report-only."
    )


def heal_line(report: DriftReport) -> str | None:
    """What to run, or why nothing can be run; None when there is no drift."""
    if not report.drifted:
        return None
    if not report.healable:
        return "Nothing here is healable by apply: each finding says what to do instead."
    return f"Heal: {heal_command(report)}"


def text(report: DriftReport) -> str:
    lines = [f"Target: {report.target}", ""]
    if report.selection.partial:
        lines += [report.selection.warning("drift report"), ""]
    for item in report.items:
        lines.append(f"! {item.name}:{item.version or '-'}  ({_label(item)}) {item.message}")
        lines += (f"    {line}" for line in _value_lines(item))
        if not item.values and item.workspace is not None:
            lines.append(f"    workspace: {json.dumps(item.workspace, sort_keys=True)}")
    if report.items:
        lines.append("")
    lines.append(summary(report))
    heal = heal_line(report)
    # Each line is escaped whole: a hand-edited tag's line break or escape sequence is shown.
    return "".join(escape.terminal(line) + "\n" for line in ([*lines, heal] if heal else lines))


def markdown(report: DriftReport) -> str:
    head = f"### envsync drift for {escape.code(report.target)}\n\n**{escape.markdown(summary(report))}**\n"
    if report.selection.partial:
        head += f"\n> [!WARNING]\n> {report.selection.warning('drift report', code=escape.code)}\n"
    if not report.items:
        return head
    rows = [
        f"| {escape.code(i.name, table=True)} | {escape.markdown(i.version or '–')} | {i.kind.value} | "
        f"{'yes' if i.healable else 'no'} | "
        + "<br>".join([escape.markdown(i.message), *(escape.code(v, table=True) for v in _value_lines(i))])
        + " |"
        for i in report.items
    ]
    table = "\n| environment | version | kind | healable | what (workspace → git) |\n|---|---|---|---|---|\n"
    heal = escape.markdown(heal_line(report))
    if report.healable:
        heal = f"To heal the {len(report.healable)} healable finding(s): {escape.code(heal_command(report))}"
    return head + table + "\n".join(rows) + f"\n\n{heal}\n"


def to_json(report: DriftReport) -> str:
    doc = {
        "format_version": FORMAT_VERSION,
        "target": report.target,
        "drifted": report.drifted,
        "selection": report.selection.to_json(),
        "heal_command": heal_command(report) if report.healable else None,
        "items": [_item_json(i) for i in report.items],
    }
    return json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n"


def _item_json(item: DriftItem) -> dict[str, Any]:
    doc = asdict(item)
    doc["kind"] = item.kind.value
    doc["healable"] = item.healable
    doc["values"] = [{"field": f, "workspace": old, "git": new} for f, old, new in item.values]
    return doc


def _label(item: DriftItem) -> str:
    return f"{item.kind.value}, {'healable' if item.healable else 'report-only'}"


def _value_lines(item: DriftItem) -> Iterator[str]:
    for field, old, new in item.values:
        if old is None:
            yield f"+ {field}: {_short(new)}"
        elif new is None:
            yield f"- {field}: {_short(old)}"
        else:
            yield f"~ {field}: {_short(old)} → {_short(new)}"


def _short(value: Any, width: int = 100) -> str:
    shown = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return shown if len(shown) <= width else shown[: width - 1] + "…"
