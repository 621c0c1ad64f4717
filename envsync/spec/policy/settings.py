"""envsync.yaml's `policy:` (top level, and per target) → `Policy` values.

The top-level section replaces envsync's defaults. A target's section (`targets.<name>.policy`,
same shape) can only tighten the top level: severities go up, limits go down, allow-lists
shrink, and deny-lists, required tags and name patterns add up. Anything looser is a located
config error, never silently ignored. The schema (`schemas/config.schema.json`) has already
checked types and regexes when these functions run.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, NoReturn

from envsync.spec.policy.catalog import RULES, Level
from envsync.spec.yamlio import Key

# Basenames of files that usually hold credentials; matched case-insensitively.
DEFAULT_SECRET_FILES = (
    ".env",
    "*.pem",
    "*.key",
    "*.pfx",
    "*.p12",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    ".netrc",
    ".pypirc",
    ".npmrc",
    ".git-credentials",
)

# Reports a looser target value at its key (relative to the section) and does not return.
Fail = Callable[[Key, str], NoReturn]


@dataclass(frozen=True)
class Policy:
    """One target's effective policy: a severity per rule, and the rules' parameters."""

    levels: Mapping[str, Level] = field(default_factory=lambda: {r.id: r.default for r in RULES})
    allowed_registries: tuple[str, ...] = ()  # globs; empty: any registry
    mutable_tags: frozenset[str] = frozenset({"latest"})
    denied_channels: frozenset[str] = frozenset()
    allow_unpinned: frozenset[str] = frozenset({"pip"})  # conda packages exempt from conda-unpinned
    required_tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # tag → regexes
    name_patterns: tuple[str, ...] = ()  # regexes an environment name must fully match
    max_context_mb: float = 100.0
    max_context_files: int = 10_000
    secret_files: tuple[str, ...] = DEFAULT_SECRET_FILES

    def level(self, rule: str) -> Level:
        return self.levels.get(rule, Level.OFF)

    def on(self, rule: str) -> bool:
        return rule in self.enabled

    def any_on(self, rules: frozenset[str]) -> bool:
        return not self.enabled.isdisjoint(rules)

    @cached_property
    def enabled(self) -> frozenset[str]:  # asked for each rule of each environment
        return frozenset(rule for rule, level in self.levels.items() if level is not Level.OFF)


DEFAULT_POLICY = Policy()


def top_level(raw: Mapping[str, Any] | None) -> Policy:
    """The repository's policy: envsync's defaults with `raw` (the `policy:` mapping) applied."""
    return _merged(DEFAULT_POLICY, raw or {}, None)


def tightened(base: Policy, raw: Mapping[str, Any] | None, fail: Fail) -> Policy:
    """A target's policy: `base` tightened by `raw`; `fail` reports anything looser."""
    return _merged(base, raw or {}, fail) if raw else base


def _merged(base: Policy, raw: Mapping[str, Any], fail: Fail | None) -> Policy:
    images, conda = raw.get("images", {}), raw.get("conda", {})
    tags, names, context = raw.get("tags", {}), raw.get("names", {}), raw.get("context", {})
    policy = replace(base, levels=_levels(base, raw.get("rules", {}), fail))
    if images.get("require_digest"):
        raised = max(policy.level("image-digest-required"), Level.ERROR, key=lambda v: v.rank)
        policy = replace(policy, levels={**policy.levels, "image-digest-required": raised})
    if "allowed_registries" in images:
        allowed = _registries(base.allowed_registries, images["allowed_registries"], fail)
        policy = replace(policy, allowed_registries=allowed)
    if "allow_unpinned" in conda:
        exempt = _subset(base.allow_unpinned, conda["allow_unpinned"], ("conda", "allow_unpinned"), fail)
        policy = replace(policy, allow_unpinned=exempt)
    add = fail is not None  # a target adds to the top level's lists; the top level replaces defaults
    policy = replace(
        policy,
        # `latest` always moves: mutable_tags names more tags that do, at any level.
        mutable_tags=_grown(base.mutable_tags, images.get("mutable_tags"), True),
        denied_channels=_grown(base.denied_channels, conda.get("denied_channels"), add),
        secret_files=tuple(sorted(_grown(frozenset(base.secret_files), context.get("secret_files"), add))),
        required_tags=_required(base.required_tags, tags.get("required"), add),
        name_patterns=_patterns(base.name_patterns, names.get("pattern"), add),
    )
    if "max_size_mb" in context:
        limit = _at_most(base.max_context_mb, context["max_size_mb"], ("context", "max_size_mb"), fail)
        policy = replace(policy, max_context_mb=float(limit))
    if "max_files" in context:
        limit = _at_most(base.max_context_files, context["max_files"], ("context", "max_files"), fail)
        policy = replace(policy, max_context_files=int(limit))
    return policy


def _levels(base: Policy, rules: Mapping[str, str], fail: Fail | None) -> dict[str, Level]:
    levels = dict(base.levels)
    for rule, value in rules.items():
        level = Level(value)
        if fail is not None and level.rank < base.level(rule).rank:
            fail(
                ("rules", rule), f"'{level.value}' is looser than the top level's '{base.level(rule).value}'"
            )
        levels[rule] = level
    return levels


def _registries(base: tuple[str, ...], wanted: list[str], fail: Fail | None) -> tuple[str, ...]:
    if fail is not None and base:
        for i, pattern in enumerate(wanted):
            if not any(_inside(pattern, outer) for outer in base):
                fail(("images", "allowed_registries", i), f"'{pattern}' is not inside {list(base)}")
    return tuple(wanted)


def _inside(inner: str, outer: str) -> bool:
    """Whether glob `inner` allows nothing `outer` does not, judged on their text: a registry
    glob (no slash) holds its registries' paths (mcr.microsoft.com/azureml/* is inside
    mcr.microsoft.com); a path glob holds the globs it matches (mcr.microsoft.com/azureml/*
    inside mcr.microsoft.com/*)."""
    inner, outer = inner.lower(), outer.lower()
    if "/" not in outer:
        return fnmatch.fnmatchcase(inner.split("/", 1)[0], outer)
    return "/" in inner and fnmatch.fnmatchcase(inner, outer)


def _subset(base: frozenset[str], wanted: list[str], key: Key, fail: Fail | None) -> frozenset[str]:
    if fail is not None:
        for i, item in enumerate(wanted):
            if item not in base:
                fail((*key, i), f"'{item}' is not exempt at the top level ({sorted(base)})")
    return frozenset(wanted)


def _grown(base: frozenset[str], wanted: list[str] | None, add: bool) -> frozenset[str]:
    if wanted is None:
        return base
    return frozenset(wanted) | (base if add else frozenset())


def _required(
    base: Mapping[str, tuple[str, ...]], wanted: list[str] | dict[str, str] | None, add: bool
) -> Mapping[str, tuple[str, ...]]:
    if wanted is None:
        return base
    # A list names tags that must be present and not empty; a mapping adds a value regex.
    added = {tag: ".+" for tag in wanted} if isinstance(wanted, list) else dict(wanted)
    merged = dict(base) if add else {}
    for tag, pattern in added.items():
        merged[tag] = (*merged.get(tag, ()), pattern)
    return merged


def _patterns(base: tuple[str, ...], wanted: str | None, add: bool) -> tuple[str, ...]:
    if wanted is None:
        return base
    return (*base, wanted) if add else (wanted,)


def _at_most(base: float, wanted: float, key: Key, fail: Fail | None) -> float:
    if fail is not None and wanted > base:
        fail(key, f"{wanted} is over the top level's {base:g}")
    return wanted
