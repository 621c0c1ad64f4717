"""One environment × the configured policies → a verdict per policy.

It runs while the environment is loaded, when the documents that locate every value are in
hand, and keeps only the verdicts: holding every document until a plan needs it would cost
several MB per thousand environments. Targets that share a policy share one evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from envsync.spec.model import EnvironmentSpec
from envsync.spec.policy import conda, context, images, metadata, pip
from envsync.spec.policy.settings import Policy
from envsync.spec.policy.subject import Hit, Subject
from envsync.spec.policy.suppress import MARKER, settle
from envsync.spec.problems import Problem, Suppressed, Verdict, verdict

Check = Callable[[Subject, Policy], Iterator[Hit]]


@dataclass(frozen=True)
class Family:
    check: Check
    rules: frozenset[str]
    parameters: tuple[str, ...]  # the Policy fields its findings depend on (besides which rules are on)

    def key(self, policy: Policy) -> Hashable:
        """Equal for two policies whose findings from this family are the same."""
        values = (getattr(policy, name) for name in self.parameters)
        return (self.check, policy.enabled & self.rules, *(_hashable(v) for v in values))


FAMILIES = tuple(Family(m.check, m.RULES, m.PARAMETERS) for m in (images, pip, conda, metadata, context))
CLEAN = Verdict()
Memo = dict[Hashable, list[Hit]]  # a family's findings on one environment, by its key


def evaluate(
    subject: Subject, policy: Policy, shared: tuple[Memo, tuple[Hashable, ...]] | None = None
) -> Verdict:
    """Every rule of `policy` on one environment, suppressions applied. With `shared` (a memo,
    and this policy's family keys), a family whose findings another policy already found (same
    rules on, same parameters) is not run again."""
    if shared is None:
        hits = [hit for family in FAMILIES for hit in family.check(subject, policy)]
    else:
        hits = _hits(subject, policy, *shared)
    texts = {subject.doc.path: subject.doc.text}
    if subject.conda_doc is not None:
        texts[subject.conda_doc.path] = subject.conda_doc.text
    if not hits and not any(MARKER in text for text in texts.values()):
        return CLEAN  # the common case, and the one that must cost next to nothing
    scanned = list(texts)  # comments of these files are checked even where nothing was found
    if subject.dockerfile is not None:
        texts[subject.dockerfile[0]] = subject.dockerfile[1]
    found = settle(hits, policy, lambda p: texts.get(p) or read_text(subject.root, p), scanned=scanned)
    return found if found.problems or found.suppressed else CLEAN


def _hits(subject: Subject, policy: Policy, memo: Memo, keys: tuple[Hashable, ...]) -> list[Hit]:
    found: list[Hit] = []
    for family, key in zip(FAMILIES, keys, strict=True):
        if key not in memo:
            memo[key] = list(family.check(subject, policy))
        found += memo[key]
    return found


def _hashable(value: object) -> Hashable:
    return tuple(sorted(value.items())) if isinstance(value, Mapping) else value


@dataclass(frozen=True)
class _Prepared:
    """How to evaluate one configuration's policies: each distinct policy once, and (when there
    are several) each one's family keys, so shared families run once per environment."""

    distinct: tuple[Policy, ...]
    position: Mapping[str, int]  # policy key → its policy's place in `distinct`
    keys: tuple[tuple[Hashable, ...], ...] | None


_last: list[tuple[Mapping[str, Policy], _Prepared]] = []  # the configuration being loaded


def _prepared(policies: Mapping[str, Policy]) -> _Prepared:
    # Every environment of a load shares one `policies` mapping: prepare it once, not per file.
    if _last and _last[0][0] is policies:
        return _last[0][1]
    distinct: list[Policy] = []
    position: dict[str, int] = {}
    for name, policy in policies.items():
        found = next((i for i, p in enumerate(distinct) if p is policy or p == policy), None)
        if found is None:
            distinct.append(policy)
            found = len(distinct) - 1
        position[name] = found
    keys = tuple(tuple(f.key(p) for f in FAMILIES) for p in distinct) if len(distinct) > 1 else None
    prepared = _Prepared(tuple(distinct), position, keys)
    _last[:] = [(policies, prepared)]
    return prepared


def evaluate_all(subject: Subject, policies: Mapping[str, Policy]) -> Mapping[str, Verdict]:
    """A verdict per policy key; {} when every policy finds nothing (the common case, kept small)."""
    plan = _prepared(policies)
    memo: Memo = {}
    done = [
        evaluate(subject, policy, (memo, plan.keys[i]) if plan.keys else None)
        for i, policy in enumerate(plan.distinct)
    ]
    return {name: done[i] for name, i in plan.position.items() if done[i] is not CLEAN}


def read_text(root: Path, shown: str) -> str | None:
    try:
        return (root / shown).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def collected(specs: Iterable[EnvironmentSpec], key: str) -> Verdict:
    """Everything policy `key` found in `specs`, each finding once (files can be shared)."""
    problems: set[Problem] = set()
    suppressed: set[Suppressed] = set()
    for spec in specs:
        found = spec.policy.get(key)
        if found is not None:
            problems.update(found.problems)
            suppressed.update(found.suppressed)
    return verdict(problems, suppressed)
