"""The Markdown plan through a real renderer: markdown-it-py (CommonMark with GitHub's tables and
raw HTML) parses the comment, and Pygments' diff lexer, which colours a `diff` fence by its
first column as GitHub's highlighter does, colours every line of every change."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from markdown_it import MarkdownIt
from pygments.lexers import DiffLexer
from pygments.token import Generic

from envsync.plan import render
from envsync.plan.model import Action, Change, ContextFiles
from tests.plan.test_render import sample_plan

COLOURED = {Generic.Inserted, Generic.Deleted, Generic.Strong}  # +, -, !


def _parse(text: str) -> list[Any]:
    return MarkdownIt("commonmark", {"html": True}).enable("table").parse(text)


def _fences(text: str) -> list[Any]:
    return [t for t in _parse(text) if t.type == "fence"]


def _uncoloured(fence: str) -> list[str]:
    """Lines that say a change (`+`, `-`, `~` or `!` first, however indented) which Pygments'
    diff lexer leaves uncoloured: a symbol out of column one, or a `~`."""
    coloured = {value.rstrip("\n") for kind, value in DiffLexer().get_tokens(fence) if kind in COLOURED}
    changes = [line for line in fence.splitlines() if line.lstrip()[:1] in ("+", "-", "~", "!")]
    return [line for line in changes if line not in coloured]


def test_every_change_is_one_diff_fence_inside_its_own_details() -> None:
    result = sample_plan()
    text = render.markdown(result)
    shown = [c for c in result.changes if c.action is not Action.NOOP]
    fences = _fences(text)
    assert [f.info for f in fences] == ["diff"] * len(shown)
    html = "".join(t.content for t in _parse(text) if t.type == "html_block")
    assert html.count("<details") == html.count("</details>") == len(shown)


def test_the_summary_comes_before_any_change() -> None:
    text = render.markdown(sample_plan())
    inline = [t for t in _parse(text) if t.type == "inline"]
    assert inline[1].content.startswith("**Plan: ")  # after the heading, before the first change
    assert text.index("**Plan: ") < text.index("<details")


def test_every_change_line_is_coloured_and_updates_are_a_minus_and_a_plus() -> None:
    fences = [f.content for f in _fences(render.markdown(sample_plan()))]
    for fence in fences:
        assert _uncoloured(fence) == [], fence
        assert all(line[:1] in "+-! " for line in fence.splitlines()), fence
    assert any('- tags.team: "ml"\n+ tags.team: "ai"' in f for f in fences)
    assert any("-     numpy 1.24.0\n+     numpy 1.26.4" in f for f in fences)


def test_context_files_in_markdown_are_coloured_too() -> None:
    files = ContextFiles(
        added=("train.py",), removed=("old.txt",), modified=("Dockerfile",), basis="commit c"
    )
    build = {"context": "a" * 64, "dockerfile_path": "Dockerfile", "path": "environments/torch"}
    change = Change(
        "torch",
        Action.NEW_VERSION,
        "2",
        "0" * 64,
        before={"build": build},
        after={"build": {**build, "context": "b" * 64}},
        diff=("build.context",),
        context_files=files,
    )
    result = replace(sample_plan(), changes=(change,))
    [fence] = [f.content for f in _fences(render.markdown(result))]
    assert "+   train.py" in fence and "-   old.txt" in fence and "!   Dockerfile" in fence
    assert _uncoloured(fence) == [], fence


def test_a_short_plan_shows_its_changes_open_a_long_one_folds_them() -> None:
    result = sample_plan()
    short = replace(result, changes=result.changes[:2])
    assert render.markdown(short).count("<details open>") == 2
    assert "<details open>" not in render.markdown(result)  # six changes: folded


def test_verbose_text_shows_unchanged_fields_unmarked() -> None:
    text = render.text(sample_plan(), verbose=True)
    same = text.split("same:1  (no changes)", 1)[1].split("\n\n", 1)[0]
    assert '\n      image: "' in same and "+ image" not in same
