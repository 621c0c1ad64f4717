"""`--name` / `--exclude`: the environments a partial plan, apply or drift covers. Pure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase

_GLOB = frozenset("*?[")


@dataclass(frozen=True)
class NameFilter:
    """Names (globs allowed) to keep, and to leave out; no names keeps every one not left out.

    Like Terraform's -target, what is not selected is neither planned nor applied, nor reported
    as an orphan: a partial plan never archives what it did not select."""

    names: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        return bool(self.names or self.exclude)

    def matches(self, name: str) -> bool:
        if self.names and not any(fnmatchcase(name, pattern) for pattern in self.names):
            return False
        return not any(fnmatchcase(name, pattern) for pattern in self.exclude)

    @property
    def exact(self) -> frozenset[str] | None:
        """The only names it can match, when `--name` gave no glob: their reads alone are needed."""
        if not self.names or any(_GLOB & set(pattern) for pattern in self.names):
            return None
        return frozenset(n for n in self.names if self.matches(n))

    def describe(self) -> str:
        """`--name 'a*' --exclude b`, as a command line would say it."""
        words = [f"--name {_quoted(n)}" for n in self.names]
        return " ".join(words + [f"--exclude {_quoted(n)}" for n in self.exclude])

    def warning(self, what: str = "plan", *, code: Callable[[str], str] = str) -> str:
        """Terraform's warning for -target: a partial run is not to be mistaken for a full one.
        `code` quotes the options for the sink (a Markdown code span)."""
        done = {"plan": "planned, and none of them is archived", "drift report": "checked"}[what]
        return (
            f"Partial {what} ({code(self.describe())}): environments not selected were not {done}; "
            "run without --name/--exclude to see everything."
        )

    def to_json(self) -> dict[str, list[str]] | None:
        return {"names": list(self.names), "exclude": list(self.exclude)} if self.partial else None

    @classmethod
    def from_json(cls, doc: object) -> NameFilter:
        if not isinstance(doc, dict):
            return EVERYTHING
        return cls(tuple(doc.get("names", ())), tuple(doc.get("exclude", ())))


EVERYTHING = NameFilter()


def _quoted(pattern: str) -> str:
    plain = pattern.replace("-", "").replace("_", "").replace(".", "").isalnum()
    return pattern if plain else "'" + pattern.replace("'", "'\\''") + "'"
