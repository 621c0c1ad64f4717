"""The escaping module, sink by sink, over hostile values."""

from __future__ import annotations

import json

import pytest
import yaml

from envsync.inventory.inspect import render_doc
from envsync.text import escape
from tests.security import hostile


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("plain text, ünïcode", "plain text, ünïcode"),
        ("a\tb", "a\tb"),
        (hostile.WORKFLOW_COMMAND, "ok\\n::warning::injected"),
        (hostile.MASK, "x\\r::add-mask::secret"),
        (hostile.STOP, "y\\u2028::stop-commands::token"),
        (hostile.NEL, "z\\x85::error::nel"),
        (hostile.TITLE, "\\x1b]0;owned\\x07"),
        (hostile.CSI, "\\x9b31m red"),
        (hostile.BIDI, "admin\\u202e\\u2066txt.exe"),
        ("::warning::at the start", "\\x3a:warning::at the start"),
        ("  ::add-mask::indented", "  \\x3a:add-mask::indented"),
        ("name\udcff", "name\\udcff"),  # an undecodable file name: printing it raw would raise
    ],
)
def test_terminal_shows_what_would_act(value: str, shown: str) -> None:
    assert escape.terminal(value) == shown


@pytest.mark.parametrize("value", hostile.VALUES)
def test_terminal_output_is_one_safe_line(value: str) -> None:
    out = escape.terminal(value)
    hostile.assert_terminal_safe(out)
    assert "\n" not in out


def test_lines_keeps_our_line_feeds_and_breaks_data_borne_commands() -> None:
    text = 'Traceback:\n  File "x", line 1\nValueError: bad\r::add-mask::x\n::warning::y'
    out = escape.lines(text)
    assert out.splitlines()[:2] == ["Traceback:", '  File "x", line 1']
    hostile.assert_terminal_safe(out)


@pytest.mark.parametrize("value", hostile.VALUES)
@pytest.mark.parametrize(
    "place",
    [
        lambda v: f"text {escape.markdown(v)} after\n",
        lambda v: f"`x` {escape.code(v)} after\n",
        lambda v: f"| a | b |\n|---|---|\n| {escape.code(v, table=True)} | {escape.markdown(v)} |\n",
        lambda v: (
            f"<details><summary>{escape.html(v)}</summary>\n\n{escape.fence(escape.terminal(v))}\n</details>\n"
        ),
        lambda v: f"<!-- marker={escape.html(v)} -->\ntext\n",
    ],
    ids=["prose", "code", "table", "details", "comment"],
)
def test_markdown_sinks_render_no_html_from_data(value: str, place) -> None:  # type: ignore[no-untyped-def]
    hostile.assert_markdown_safe(place(value))


@pytest.mark.parametrize("value", ["a`b", "``", "`start", "end`", " spaced ", "|pipe|", "*em* [l](u)"])
def test_code_spans_render_the_value_exactly(value: str) -> None:
    html = hostile.rendered(escape.code(value))
    assert html == f"<p><code>{value}</code></p>\n"


def test_markdown_text_renders_as_the_literal_value() -> None:
    value = "[a link](https://evil.invalid) `code` a|b <b>&amp; \\[x]"
    assert hostile.rendered(escape.markdown(value)) == (
        "<p>[a link](https://evil.invalid) `code` a|b &lt;b&gt;&amp;amp; \\[x]</p>\n"
    )


def test_fence_is_longer_than_any_backtick_run_inside() -> None:
    body = "```\n````\nend"
    block = escape.fence(body, "diff")
    assert block.startswith("`````diff\n") and block.endswith("\n`````")
    assert hostile.rendered(block) == f'<pre><code class="language-diff">{body}\n</code></pre>\n'


@pytest.mark.parametrize(
    ("value", "data", "prop"),
    [
        ("50% a:b,c\nnext\r", "50%25 a:b,c%0Anext%0D", "50%25 a%3Ab%2Cc%0Anext%0D"),
        ("\x1b[31m", "\\x1b[31m", "\\x1b[31m"),
    ],
)
def test_workflow_command_parts_are_escaped_the_runners_way(value: str, data: str, prop: str) -> None:
    assert (escape.command_data(value), escape.command_property(value)) == (data, prop)


@pytest.mark.parametrize("value", [*hostile.VALUES, "::warning::x", "ok"])
def test_show_documents_keep_their_meaning_and_stay_safe(value: str) -> None:
    doc = {"tags": {value: value}, "description": value}
    shown_yaml, shown_json = render_doc(doc, "yaml"), render_doc(doc, "json")
    for out in (shown_yaml, shown_json):
        hostile.assert_terminal_safe(out)
    assert yaml.safe_load(shown_yaml) == doc
    assert json.loads(shown_json) == doc


@pytest.mark.parametrize(
    ("text", "bad"), [("ok", False), ("tab\there", True), ("a\nb", True), ("\u202e", True)]
)
def test_has_control(text: str, bad: bool) -> None:
    assert escape.has_control(text) is bad
