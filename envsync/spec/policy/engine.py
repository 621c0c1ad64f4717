"""One environment × the configured policies → a verdict per policy.

It runs while the environment is loaded, when the documents that locate every value are in
hand, and keeps only the verdicts: holding every document until a plan needs it would cost
several MB per thousand environments. Targets that share a policy share one evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from envsync.spec.model import EnvironmentSpec
from envsync.spec.policy import conda, context, images, metadata, pip
from envsync.spec.policy.settings import Policy
from envsync.spec.policy.subject import Hit, Subject
from envsync.spec.policy.suppress import settle
from envsync.spec.problems import Problem, Suppressed, Verdict

Family = Callable[[Subject, Policy], Iterator[Hit]]
FAMILIES: tuple[Family, ...] = (images.check, pip.check, conda.check, metadata.check, context.check)
CLEAN = Verdict()


def evaluate(subject: Subject, policy: Policy) -> Verdict:
    """Every rule of `policy` on one environment, suppressions applied."""
    hits = [hit for family in FAMILIES for hit in family(subject, policy)]
    texts = {subject.doc.path: subject.doc.text}
    if subject.conda_doc is not None:
        texts[subject.conda_doc.path] = subject.conda_doc.text
    verdict = settle(
        hits, policy, lambda shown: texts.get(shown) or read_text(subject.root, shown), scanned=texts
    )
    return verdict if verdict.problems or verdict.suppressed else CLEAN


def evaluate_all(subject: Subject, policies: Mapping[str, Policy]) -> Mapping[str, Verdict]:
    """A verdict per policy key; {} when every policy finds nothing (the common case, kept small)."""
    done: list[tuple[Policy, Verdict]] = []
    verdicts: dict[str, Verdict] = {}
    for key, policy in policies.items():
        verdict = next((v for p, v in done if p is policy or p == policy), None)
        if verdict is None:
            verdict = evaluate(subject, policy)
            done.append((policy, verdict))
        if verdict is not CLEAN:
            verdicts[key] = verdict
    return verdicts


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
        verdict = spec.policy.get(key)
        if verdict is not None:
            problems.update(verdict.problems)
            suppressed.update(verdict.suppressed)
    return Verdict(tuple(sorted(problems)), tuple(sorted(suppressed)))
