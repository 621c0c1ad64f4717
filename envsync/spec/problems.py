"""Validation findings: where in which file, what is wrong, and how bad it is.

Checks produce `Finding`s keyed by their path inside a YAML document (pure, no locations);
a `Report` turns them into located `Problem`s with the document's line/col marks.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter

from envsync.spec.yamlio import Key, YamlDocument
from envsync.text import escape

# Placeholders that templating tools fill in before az ml sees the file: Jinja/azureml-assets
# `{{...}}`, envsubst `${...}`, sed-style `<VERSION>` (INDEX.md "Things the corpus shows" 6).
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\$\{[^}]*\}|<[A-Za-z_][A-Za-z0-9_.-]*>")
TEMPLATE_HINT = "looks like an unsubstituted template placeholder"


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One finding of validation, printed as `path:line:col: message`.

    `rule` is the policy rule id that found it (`image-mutable-tag`), printed after the message;
    empty for the built-in checks, which are not configurable.
    """

    path: str
    line: int
    col: int
    message: str
    severity: Severity = Severity.ERROR
    rule: str = ""

    def __str__(self) -> str:
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        suffix = f" [{self.rule}]" if self.rule else ""
        return escape.terminal(f"{self.path}:{self.line}:{self.col}: {prefix}{self.message}{suffix}")


def verdict(problems: Iterable[Problem], suppressed: Iterable[Suppressed]) -> Verdict:
    """A Verdict of these findings, sorted. Sorting by a key builds one tuple per finding, where
    the dataclass order builds two per comparison: it matters at thousands of findings."""
    return Verdict(
        tuple(sorted(problems, key=_PROBLEM_ORDER)),
        tuple(sorted(suppressed, key=lambda s: (_PROBLEM_ORDER(s.problem), s.reason))),
    )


_PROBLEM_ORDER = attrgetter("path", "line", "col", "message", "severity", "rule")  # the dataclass order


@dataclass(frozen=True, order=True)
class Suppressed:
    """A policy finding an inline `# envsync: allow <rule> -- <reason>` comment suppresses."""

    problem: Problem
    reason: str


@dataclass(frozen=True)
class Verdict:
    """What a policy found: active problems, and the suppressed ones (both sorted)."""

    problems: tuple[Problem, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()

    def __add__(self, other: Verdict) -> Verdict:
        return verdict({*self.problems, *other.problems}, {*self.suppressed, *other.suppressed})

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)


def problem_json(problem: Problem) -> dict[str, object]:
    """The JSON shape of a problem (validate's and plan's): `rule` is null for built-in checks."""
    return {
        "path": problem.path,
        "line": problem.line,
        "col": problem.col,
        "message": problem.message,
        "severity": problem.severity.value,
        "rule": problem.rule or None,
    }


def suppressed_json(found: Suppressed) -> dict[str, object]:
    return {**problem_json(found.problem), "suppressed": True, "reason": found.reason}


@dataclass(frozen=True)
class Finding:
    """A problem not yet located: `key` is its path in the document."""

    key: Key
    message: str
    severity: Severity = Severity.ERROR
    at_key: bool = False  # point at the mapping key itself (unknown keys), not its value


def is_templated(value: object) -> bool:
    return isinstance(value, str) and _PLACEHOLDER.search(value) is not None


def with_hint(message: str, value: object) -> str:
    """`message`, plus the placeholder hint when `value` looks templated."""
    return f"{message} ({TEMPLATE_HINT})" if is_templated(value) else message


def yaml_kind(value: object) -> str:
    """How a YAML reader would name the type of `value` ("a mapping", "a list", "empty")."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    names = {str: "a string", int: "an integer", float: "a number", dict: "a mapping", list: "a list"}
    return names.get(type(value), type(value).__name__)


def dotted(key: Key) -> str:
    """`build.path`, `tags.team`, `conda_file.dependencies[2]`: a key path as users write it."""
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class Report:
    """Collects one file's problems (a mutable helper of the loader, not a value)."""

    doc: YamlDocument
    problems: list[Problem] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        locate = self.doc.key_where if finding.at_key else self.doc.where
        line, col = locate(finding.key)
        self.problems.append(Problem(self.doc.path, line, col, finding.message, finding.severity))

    def error(self, key: Key, message: str, *, at_key: bool = False) -> None:
        self.add(Finding(key, message, Severity.ERROR, at_key))

    def warn(self, key: Key, message: str, *, at_key: bool = False) -> None:
        self.add(Finding(key, message, Severity.WARNING, at_key))

    @property
    def has_errors(self) -> bool:
        return any(p.severity is Severity.ERROR for p in self.problems)
