"""The references rule: reference-latest, on jobs and deployments (not environments).

`azureml:NAME@latest` of an environment this repository manages runs whatever version the
next apply creates; a target whose policy turns this rule on wants them pinned. Registry
references and environments envsync does not manage are someone else's to pin.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from envsync.spec.policy.engine import CLEAN, read_text
from envsync.spec.policy.settings import Policy
from envsync.spec.policy.subject import Hit
from envsync.spec.policy.suppress import settle
from envsync.spec.problems import Verdict
from envsync.spec.references import Kind, Reference

LATEST = "reference-latest"


def check(references: Iterable[Reference], managed: Collection[str], policy: Policy, root: Path) -> Verdict:
    """Each `@latest` reference to a `managed` name, located in its job or deployment file."""
    if not policy.on(LATEST):
        return CLEAN
    hits = [
        Hit(
            LATEST,
            ref.path,
            ref.line,
            ref.col,
            f"{ref.text}: @latest of an environment envsync manages runs whatever version the next "
            f"apply creates: pin azureml:{ref.target.name}:<version>",
        )
        for ref in references
        if ref.target.kind is Kind.LATEST and ref.target.name in managed
    ]
    return settle(hits, policy, lambda shown: read_text(root, shown)) if hits else CLEAN
