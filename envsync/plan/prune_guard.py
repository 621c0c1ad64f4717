"""A prune that cannot empty a target by accident. Pure.

Argo CD refuses an automated prune that would delete every resource of an application unless
`allowEmpty` is set: an environments glob that stopped matching (a typo, a moved folder) turns
every environment into an orphan at once. `apply --prune` refuses the same way when it would
archive every environment envsync manages on the target, or more than `max_prune_share` of
them, and says how many and which flag allows it.
"""

from __future__ import annotations

from collections.abc import Collection

from envsync.config import Config
from envsync.errors import EnvsyncError
from envsync.plan.model import Action, Plan
from envsync.plan.selection import EVERYTHING

ALLOW_FLAG = "--allow-mass-prune"


def archived_names(plan: Plan, protected: Collection[str]) -> set[str]:
    """The environments `apply --prune` empties: their orphans archived, none protected and
    none kept because a live deployment uses it (`used_by`)."""
    orphans = [c for c in plan.changes if c.action is Action.ORPHAN and c.name not in protected]
    return {c.name for c in orphans} - {c.name for c in orphans if c.used_by}


def managed_names(plan: Plan) -> set[str]:
    """The environments envsync manages on the plan's target now: every one the plan touches
    that already exists there (orphans included; a first version, not yet)."""
    return {c.name for c in plan.changes if c.action is not Action.CREATE}


def refusal(plan: Plan, protected: Collection[str], max_share: float) -> str | None:
    """Why `apply --prune` must not run this plan without the flag, or None."""
    archived = archived_names(plan, protected)
    if not archived or plan.selection != EVERYTHING:  # --name chose these by name: as meant
        return None
    managed = managed_names(plan)
    count, total = len(archived), len(managed)
    created = any(c.action is Action.CREATE for c in plan.changes)  # a rename leaves one behind
    if count >= total and not created:
        what = f"every environment envsync manages in {plan.target} ({count} of {total})"
    elif count > max_share * total:
        what = (
            f"{count} of the {total} environments envsync manages in {plan.target}, "
            f"more than max_prune_share {max_share:g}"
        )
    else:
        return None
    return (
        f"apply --prune would archive {what}; nothing applied: check the environments globs in "
        f"envsync.yaml, and pass {ALLOW_FLAG} if that is meant"
    )


def check(plan: Plan, config: Config, *, prune: bool, allow: bool) -> None:
    """Raise, with the count and the flag, when an `apply --prune` of `plan` must not run."""
    reason = refusal(plan, config.protected, config.max_prune_share) if prune else None
    if reason is not None and not allow:
        raise EnvsyncError(reason)
