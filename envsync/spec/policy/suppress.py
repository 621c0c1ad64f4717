"""Inline suppressions, and turning hits into a target's verdict.

`# envsync: allow <rule-id>[, <rule-id>...] -- <why>` on the offending line, or alone on the
line just above it (Dockerfiles have no trailing comments), suppresses those rules' findings
there. The reason is required: without one the finding stands, and the comment itself is
reported. Suppressed findings are kept, with their reason, for JSON output.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from envsync.spec.policy.catalog import BY_ID, Level
from envsync.spec.policy.settings import Policy
from envsync.spec.policy.subject import Hit
from envsync.spec.problems import Problem, Severity, Suppressed, Verdict, verdict

MARKER = "envsync:"
_COMMENT = re.compile(r"#\s*envsync:\s*allow\b(?P<body>.*)$")
_SEVERITY = {Level.ERROR: Severity.ERROR, Level.WARNING: Severity.WARNING}


@dataclass(frozen=True)
class Allow:
    rules: frozenset[str]
    reason: str
    line: int  # where the comment is
    own_line: bool  # a comment alone on its line: it covers the next line too


@dataclass(frozen=True)
class Comments:
    """One file's suppression comments by the lines they cover, and the malformed ones."""

    allows: dict[int, tuple[Allow, ...]]
    problems: tuple[Problem, ...]


def scan(path: str, text: str) -> Comments:
    if MARKER not in text:  # most files: no need to look at each line
        return Comments({}, ())
    allows: dict[int, tuple[Allow, ...]] = {}
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        found = _COMMENT.search(line)
        if found is None:
            continue
        col = found.start() + 1
        ids, _, reason = found.group("body").partition("--")
        rules = frozenset(r for r in re.split(r"[\s,]+", ids) if r)
        problems += _malformed(path, number, col, rules, reason.strip())
        allow = Allow(rules & BY_ID.keys(), reason.strip(), number, not line[: found.start()].strip())
        if allow.rules and allow.reason:
            for covered in (number, number + 1) if allow.own_line else (number,):
                allows[covered] = (*allows.get(covered, ()), allow)
    return Comments(allows, tuple(problems))


def _malformed(path: str, line: int, col: int, rules: frozenset[str], reason: str) -> list[Problem]:
    found = []
    if not rules:
        found.append("names no rule: write # envsync: allow <rule-id> -- <why>")
    for rule in sorted(rules - BY_ID.keys()):
        close = difflib.get_close_matches(rule, list(BY_ID), n=1)
        found.append(f"unknown rule '{rule}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    if rules and not reason:
        found.append("has no reason, so it suppresses nothing: add ' -- <why>' after the rule ids")
    return [Problem(path, line, col, f"suppression {m}", Severity.WARNING) for m in found]


Texts = Callable[[str], str | None]  # a displayed path → that file's text (None: unreadable)


def settle(hits: Iterable[Hit], policy: Policy, texts: Texts, *, scanned: Iterable[str] = ()) -> Verdict:
    """`hits` as `policy` rates them: problems, or suppressed where a comment allows them.
    Also the malformed suppression comments of every file a hit is in, and of `scanned`."""
    problems: set[Problem] = set()
    suppressed: set[Suppressed] = set()
    scans: dict[str, Comments] = {}

    def comments(path: str) -> Comments:
        if path not in scans:
            scans[path] = scan(path, texts(path) or "")
            problems.update(scans[path].problems)  # malformed comments, once per file
        return scans[path]

    for path in scanned:
        comments(path)
    for hit in hits:
        level = policy.level(hit.rule)
        if level is Level.OFF:
            continue
        problem = Problem(hit.path, hit.line, hit.col, hit.message, _SEVERITY[level], hit.rule)
        allows = comments(hit.path).allows.get(hit.line)
        allow = next((a for a in allows if hit.rule in a.rules), None) if allows else None
        if allow is None:
            problems.add(problem)
        else:
            suppressed.add(Suppressed(problem, allow.reason))
    return verdict(problems, suppressed)
