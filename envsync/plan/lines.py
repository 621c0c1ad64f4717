"""One change's detail lines, written two ways: for a terminal (`~ tags.owner: "a" → "b"`), and
for a Markdown `diff` fence, which GitHub colours by the first column only: `+` green, `-` red,
`!` orange. There the symbol moves to column one and an in-place update becomes a `-` line and
a `+` line. Pure.

Most lines are plain strings (a plan of 10,000 new environments has 90,000 of them); only an
in-place change, which the two forms write differently, is a value."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_COLOURED = ("+", "-", "!")


@dataclass(frozen=True, slots=True)
class Changed:
    """`key` changed in place from `old` to `new` (values already shown as text)."""

    key: str
    old: str
    new: str
    depth: int = 0  # 2: a package under `conda:`
    sep: str = ": "

    def __str__(self) -> str:
        return f"{'  ' * self.depth}~ {self.key}{self.sep}{self.old} → {self.new}"

    def markdown(self) -> tuple[str, str]:
        key = f"{'  ' * self.depth} {self.key}{self.sep}"
        return f"-{key}{self.old}", f"+{key}{self.new}"


Detail = str | Changed


def terminal(details: Iterable[Detail]) -> Iterator[str]:
    return (d if isinstance(d, str) else str(d) for d in details)


def markdown(details: Iterable[Detail]) -> Iterator[str]:
    """The lines of a `diff` fence: every change's symbol in column one."""
    for detail in details:
        if isinstance(detail, Changed):
            yield from detail.markdown()
        else:
            yield column_one(detail)


def column_one(line: str) -> str:
    """`    + numpy` → `+     numpy`; `~` (changed, no values of its own) → `!`; others as
    context (a space first): `conda:` headers, `#` notes."""
    if line[:1] in _COLOURED:  # most lines: the symbol is in column one already
        return line
    body = line.lstrip(" ")
    symbol, indent = body[:1], line[: len(line) - len(body)]
    if symbol in _COLOURED:
        return f"{symbol}{indent}{body[1:]}"
    if symbol == "~":
        return f"!{indent}{body[1:]}"
    return line if indent else f" {line}"
