"""apply --prune's refusal (plan.prune_guard): pure, over plans built inline."""

from __future__ import annotations

from envsync.plan.model import Action, Change, Plan
from envsync.plan.prune_guard import refusal


def change(name: str, action: Action = Action.ORPHAN, used_by: tuple[str, ...] = ()) -> Change:
    return Change(name=name, action=action, version="1", observed_digest="0" * 64, used_by=used_by)


def test_archiving_every_managed_environment_refuses_with_the_count() -> None:
    renamed = Plan("prod", (change("a"), change("new", Action.CREATE)))
    assert refusal(renamed, frozenset(), 1.0) is None  # the target keeps the one it creates
    plan = Plan("prod", (change("a"), change("b")))
    assert refusal(plan, frozenset(), 1.0) == (
        "apply --prune would archive every environment envsync manages in prod (2 of 2); nothing "
        "applied: check the environments globs in envsync.yaml, and pass --allow-mass-prune if that is meant"
    )


def test_a_share_over_the_limit_refuses_and_one_under_it_does_not() -> None:
    plan = Plan("prod", (change("a"), change("b"), change("c", Action.NOOP), change("d", Action.UPDATE)))
    assert "2 of the 4 environments envsync manages in prod, more than max_prune_share 0.4" in (
        refusal(plan, frozenset(), 0.4) or ""
    )
    assert refusal(plan, frozenset(), 0.5) is None


def test_protected_names_and_orphans_in_use_are_not_archived_so_do_not_count() -> None:
    plan = Plan("prod", (change("a"), change("b", used_by=("online deployment blue",))))
    assert refusal(plan, frozenset(), 1.0) is None  # b keeps a version: the target is not emptied
    assert refusal(Plan("prod", (change("a"), change("b"))), frozenset({"b"}), 1.0) is None
    assert refusal(Plan("prod", (change("a", Action.NOOP),)), frozenset(), 0.1) is None
