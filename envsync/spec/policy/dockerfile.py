"""The images a Dockerfile pulls: every `FROM` (and `COPY --from=<image>`), as Docker resolves it.

Docker's rules, as BuildKit applies them: only `ARG`s declared before the first `FROM` are
visible to `FROM` lines, with their defaults (Azure ML passes no build arguments, so a default
is all there is); `${VAR:-word}` and `${VAR:+word}` are expanded; a `FROM` naming an earlier
stage (`AS name`, case-insensitive) or `scratch` pulls nothing. Lines continue with the escape
character (`\\`, or the one an `# escape=` directive sets); comment lines are dropped, also
inside a continued instruction; heredoc bodies (`<<EOF`) are not instructions.

dockerfile-parse (PyPI) splits instructions the same way but mis-expands `${VAR:-word}` and
does not tell stage names from images, which is all this module is for: hence no dependency.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

_VARIABLE = re.compile(r"\$(?:\{(?P<braced>\w+)(?::(?P<op>[-+])(?P<word>[^}]*))?\}|(?P<plain>\w+))")
_ESCAPE_DIRECTIVE = re.compile(r"^#\s*escape\s*=\s*(\S)\s*$", re.IGNORECASE)
_HEREDOC = re.compile(r"<<-?\s*[\"']?(\w+)[\"']?")
_INSTRUCTION = re.compile(r"^\s*(?P<keyword>[A-Za-z]+)(?P<space>\s+|$)")


@dataclass(frozen=True)
class Pulled:
    """An image the Dockerfile pulls, at the line and column where it is written."""

    written: str
    line: int
    col: int
    image: str | None  # with ARG defaults substituted; None when an ARG has no value
    missing: tuple[str, ...] = ()  # the ARGs without a value


@dataclass(frozen=True)
class _Instruction:
    keyword: str  # upper case
    arguments: str  # continuation lines joined with newlines (comment lines dropped)
    line: int  # 1-based, of the keyword
    col: int  # 1-based, of the arguments on that line


def pulled_images(text: str) -> list[Pulled]:
    """Every image `text` (a Dockerfile) pulls, in file order."""
    arguments: dict[str, str | None] = {}
    stages: set[str] = set()
    found: list[Pulled] = []
    seen_from = False
    for ins in _instructions(text):
        if ins.keyword == "ARG" and not seen_from:
            arguments.update(_declared(ins.arguments, arguments))
        elif ins.keyword == "FROM":
            seen_from = True
            found += _from(ins, arguments, stages)
        elif ins.keyword == "COPY":
            found += _copy_from(ins, arguments, stages)
    return found


def _from(ins: _Instruction, arguments: Mapping[str, str | None], stages: set[str]) -> Iterator[Pulled]:
    tokens = _tokens(ins)
    words = [(offset, word) for offset, word in tokens if not word.startswith("--")]
    if not words:
        return
    offset, written = words[0]
    if len(words) >= 3 and words[1][1].lower() == "as":
        stages.add(words[2][1].lower())
    yield from _pulled(ins, offset, written, arguments, stages)


def _copy_from(ins: _Instruction, arguments: Mapping[str, str | None], stages: set[str]) -> Iterator[Pulled]:
    for offset, word in _tokens(ins):
        if word.lower().startswith("--from="):
            source = word[len("--from=") :]
            if not source.isdigit():  # COPY --from=0 names a stage by index
                yield from _pulled(ins, offset + len("--from="), source, arguments, stages)


def _pulled(
    ins: _Instruction, offset: int, written: str, arguments: Mapping[str, str | None], stages: set[str]
) -> Iterator[Pulled]:
    image, missing = expand(written, arguments)
    if image is not None and (image.lower() in stages or image.lower() == "scratch"):
        return
    # Columns are exact on the instruction's first line; a word on a continuation line is
    # reported at the start of the arguments.
    col = ins.col + offset if offset < len(ins.arguments.split("\n", 1)[0]) else ins.col
    yield Pulled(written, ins.line, col, image, missing)


def expand(word: str, arguments: Mapping[str, str | None]) -> tuple[str | None, tuple[str, ...]]:
    """`word` with `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alternative}` expanded,
    and the variables that had no value (then the image is None)."""
    missing: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("plain")
        current = arguments.get(name)
        op, word_ = match.group("op"), match.group("word") or ""
        if op == "-":
            return current if current else word_
        if op == "+":
            return word_ if current else ""
        if current is None:
            missing.append(name)
            return ""
        return current

    expanded = _VARIABLE.sub(value, word)
    return (None, tuple(missing)) if missing else (expanded, ())


def _declared(text: str, known: Mapping[str, str | None]) -> dict[str, str | None]:
    """`ARG A=1 B` → {A: "1", B: None}; a default may use ARGs declared before it."""
    found: dict[str, str | None] = {}
    for word in text.split():
        name, equals, default = word.partition("=")
        if equals:
            found[name] = expand(_unquoted(default), {**known, **found})[0]
        else:
            found[name] = None
    return found


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _tokens(ins: _Instruction) -> list[tuple[int, str]]:
    return [(m.start(), m.group()) for m in re.finditer(r"\S+", ins.arguments)]


def _instructions(text: str) -> Iterator[_Instruction]:
    lines = text.splitlines()
    escape = _escape(lines)
    i = 0
    while i < len(lines):
        start = _INSTRUCTION.match(lines[i])
        if start is None or lines[i].lstrip().startswith("#"):
            i += 1
            continue
        col = start.end() + 1
        parts, j = [lines[i][start.end() :]], i
        while parts[-1].rstrip().endswith(escape) and j + 1 < len(lines):
            parts[-1] = parts[-1].rstrip()[:-1]
            j += 1
            if not lines[j].lstrip().startswith("#"):
                parts.append(lines[j])
        arguments = "\n".join(parts)
        yield _Instruction(start.group("keyword").upper(), arguments, i + 1, col)
        i = _after_heredocs(lines, j + 1, arguments)


def _escape(lines: list[str]) -> str:
    """The escape character: `\\`, unless a parser directive at the very top sets another."""
    for line in lines:
        found = _ESCAPE_DIRECTIVE.match(line.strip())
        if found:
            return found.group(1)
        if not line.startswith("#"):  # directives end at the first non-comment line
            break
    return "\\"


def _after_heredocs(lines: list[str], i: int, arguments: str) -> int:
    for delimiter in _HEREDOC.findall(arguments):
        while i < len(lines) and lines[i].strip() != delimiter:
            i += 1
        i += 1
    return i
