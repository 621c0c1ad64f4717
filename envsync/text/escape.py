"""One escaping function per output sink, for every value a repository, a workspace or an
endpoint wrote: names, versions, tags, descriptions, file names, messages.

- `terminal`: a terminal or a CI log. Control characters (ESC, so no colour, OSC hyperlink or
  title sequence), line breaks of every kind (CR, LF, NEL, U+2028, U+2029), bidi overrides and
  lone surrogates are shown as visible escapes, and a leading `::` is broken, so no value can
  start a line of its own, let alone a GitHub workflow command (`::add-mask::`, ...).
- `lines`: a block of our own lines holding values (a traceback): each line as `terminal`.
- `markdown`, `code`, `html`, `fence`: the pieces of a pull-request comment or issue body.
- `command_data`, `command_property`: the two parts of a workflow command we write ourselves,
  escaped the way the Actions runner unescapes them (actions/toolkit's command.ts).
- JSON needs nothing here: `json.dumps` escapes every control character (and, with its
  default `ensure_ascii`, every non-ASCII one).
"""

from __future__ import annotations

import html as _html
import re
from collections.abc import Iterable

# C1 controls (NEL, CSI), line and paragraph separators, bidi overrides, lone surrogates (from
# undecodable file names: printing one raises).
_BEYOND_ASCII = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
# Tab is left alone: it cannot end a line or start a sequence.
_UNSAFE = re.compile(f"[\x00-\x08\x0a-\x1f{_BEYOND_ASCII}]")
# What json.dumps(ensure_ascii=False) leaves raw (it escapes the C0 controls itself).
_UNSAFE_IN_JSON = re.compile(f"[{_BEYOND_ASCII}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\x1b": "\\x1b"}
_COMMAND_START = re.compile(r"^(\s*):")
_COMMAND_LINE = re.compile(r"^\s*::", re.MULTILINE)
# Emphasis (`*`, `_`) can only restyle: what could hide or add content (a link or image opens
# with `[`, a code span, a cell boundary) is escaped.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`\[|])")
_BACKTICKS = re.compile(r"`+")


def terminal(value: object) -> str:
    """`value` safe to print anywhere on a line of a terminal or a CI log."""
    text = value if isinstance(value, str) else str(value)
    if not text.isprintable():  # checked in C: the common case has no control or separator
        text = _UNSAFE.sub(_visible, text)
    return _COMMAND_START.sub(r"\1\\x3a", text) if "::" in text and text.lstrip().startswith("::") else text


def lines(text: str) -> str:
    """A block of lines we composed (a traceback, a tool's output): each line as `terminal`,
    the block's own line feeds kept."""
    return block(text.split("\n"))


def block(parts: Iterable[str]) -> str:
    """Lines we composed around values, each escaped as `terminal`, joined by line feeds.
    Thousands of plan lines are checked in C at once when none needs escaping."""
    shown = list(parts)
    if all(map(str.isprintable, shown)):
        joined = "\n".join(shown)
        if "::" not in joined or not _COMMAND_LINE.search(joined):
            return joined
    return "\n".join(map(terminal, shown))


def has_control(text: str) -> bool:
    """Whether `text` holds a control character, tab included, or a line or bidi break: what a
    one-line value (a tag) must not hold."""
    return not text.isprintable() and ("\t" in text or _UNSAFE.search(text) is not None)


def json_text(text: str) -> str:
    """JSON text from `json.dumps(..., ensure_ascii=False)` safe for a terminal: the characters it
    leaves raw that a terminal obeys become `\\uXXXX` escapes, so it is the same JSON."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def markdown(value: object) -> str:
    """`value` as literal text in a Markdown paragraph, list item or table cell: no HTML, link,
    code span or cell boundary of its own, on one line."""
    text = _html.escape(terminal(value), quote=False)
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def code(value: object, *, table: bool = False) -> str:
    """`value` as an inline code span, whatever backticks it holds. In a table cell (`table`),
    pipes are escaped too: GitHub splits cells at a bare pipe even inside a code span."""
    text = terminal(value)
    if table:
        text = text.replace("|", "\\|")
    ticks = "`" * (_longest_run(text) + 1)
    pad = " " if not text.strip() or text[0] == "`" or text[-1] == "`" or text[0] == text[-1] == " " else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def html(value: object) -> str:
    """`value` as text inside an HTML element or attribute of a comment (`<summary>`, `<code>`)."""
    return _html.escape(terminal(value), quote=True)


def fence(body: str, info: str = "") -> str:
    """`body` (lines already escaped with `terminal`) as a fenced code block whose fence is
    longer than any backtick run inside, so no line of it can close the block."""
    ticks = "`" * max(3, _longest_run(body) + 1)
    return f"{ticks}{info}\n{body}\n{ticks}"


def command_data(value: object) -> str:
    """The message of a workflow command (after its `::`): line breaks the runner's way (it
    turns `%0A` back into a line of the annotation, never of the log), other controls as `terminal`."""
    text = value if isinstance(value, str) else str(value)
    return terminal(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def command_property(value: object) -> str:
    """A property value of a workflow command (`file=`, `title=`)."""
    return command_data(value).replace(":", "%3A").replace(",", "%2C")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named:
        return named
    point = ord(char)
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def _longest_run(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0) if "`" in text else 0
