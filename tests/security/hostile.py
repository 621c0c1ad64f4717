"""Hostile text as an attacker would write it into a YAML, a workspace tag or an answer, and the
checks every output sink must pass with it."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

# Each value tries to leave its place: start a workflow command on a line of its own, drive a
# terminal (OSC 8 hyperlink, window title, CSI through C1), or render HTML in a comment.
WORKFLOW_COMMAND = "ok\n::warning::injected"
MASK = "x\r::add-mask::secret"
STOP = "y\u2028::stop-commands::token"
NEL = "z\x85::error::nel"
OSC = "\x1b]8;;https://evil.invalid\x07click\x1b]8;;\x07"
TITLE = "\x1b]0;owned\x07"
CSI = "\x9b31m red"
HTML = '1</code></summary><ins>HTML</ins><img src="https://evil.invalid/x.png">'
FENCE = "```\n</details><b>out</b>\n```"
BIDI = "admin\u202e\u2066txt.exe"
VALUES = (WORKFLOW_COMMAND, MASK, STOP, NEL, OSC, TITLE, CSI, HTML, FENCE, BIDI)

# What no output may hold: C0 controls but tab and line feed, DEL, C1 controls, line and
# paragraph separators, bidi controls.
_RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_COMMAND_LINE = re.compile(r"^\s*::", re.MULTILINE)
_OURS = re.compile(r"^::(error|warning|notice) file=")  # envsync's own annotations


def assert_terminal_safe(output: str, *, annotations: bool = False) -> None:
    """No control character and no data-borne workflow command on any line."""
    assert not _RAW_CONTROL.search(output), repr(_RAW_CONTROL.search(output))
    for line in output.split("\n"):
        if _COMMAND_LINE.match(line):
            assert annotations and _OURS.match(line), f"a workflow command: {line!r}"


def rendered(markdown: str) -> str:
    """The HTML GitHub would make of a comment: CommonMark + tables, raw HTML allowed."""
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def assert_markdown_safe(markdown: str, allowed: frozenset[str] = frozenset()) -> None:
    """No element but the report's own layout, no link or image the data brought."""
    assert_terminal_safe(markdown)
    html = rendered(markdown)
    layout = {
        "details",
        "summary",
        "code",
        "pre",
        "p",
        "h3",
        "h4",
        "strong",
        "ul",
        "li",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "br",
        "hr",
        "em",
        "blockquote",
        "a",
    } | allowed
    tags = set(re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)", html))
    assert tags <= layout, f"{sorted(tags - layout)} rendered from data"
    assert "evil.invalid" not in "".join(re.findall(r'(?:href|src)="[^"]*"', html))
