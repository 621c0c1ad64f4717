"""Checking job and deployment references against what a target knows (pure): the names and
versions a workspace or registry holds, plus what the plan creates; or, for `validate`, just
the repository's names and Azure's curated naming."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from envsync.spec.problems import Problem
from envsync.spec.references import CURATED_PREFIXES, Kind, Reference, Target


@dataclass(frozen=True)
class Known:
    """What a reference may name. `versions` maps a name to the versions that exist (or will,
    once the plan is applied); `active` names have a version @latest resolves to. Names in
    `unversioned` are checked by name only (validate has no workspace to list versions from)."""

    versions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    active: frozenset[str] = frozenset()
    unversioned: frozenset[str] = frozenset()
    curated_by_name: bool = False  # accept any AzureML-*/Microsoft* name (no workspace to ask)
    # Set when the names and versions are a registry's: then only azureml://registries/ refs
    # to it are checked (workspace refs name another place), else those are left unchecked.
    registry: str | None = None


def repo_known(names: Collection[str]) -> Known:
    """For `validate`: the repo's environment names and Azure's curated naming."""
    return Known(unversioned=frozenset(names), curated_by_name=True)


def check(references: Iterable[Reference], known: Known) -> list[Problem]:
    """A problem, at its file and line, for each reference to a name or version nobody has."""
    problems = []
    for ref in references:
        message = _unknown(ref.target, known)
        if message:
            problems.append(Problem(ref.path, ref.line, ref.col, f"{ref.text}: {message}"))
    return problems


def in_registry(target: Target, registry: str | None) -> bool:
    """Whether `target` is an asset of `registry` (registry names are case-insensitive)."""
    found = target.registry
    return (
        target.kind is Kind.REGISTRY
        and found is not None
        and registry is not None
        and (found.lower() == registry.lower())
    )


def _unknown(target: Target, known: Known) -> str | None:
    if known.registry is not None:
        return _unknown_in_registry(target, known, known.registry)
    # Registry and cross-workspace assets live elsewhere: checked against a registry target.
    if target.kind not in (Kind.VERSION, Kind.LATEST) or target.name is None:
        return None
    name = target.name
    if name in known.unversioned or (known.curated_by_name and name.startswith(CURATED_PREFIXES)):
        return None
    if name not in known.versions:
        if known.curated_by_name:
            return f"no environment '{name}' in the repo, and not a curated (AzureML-*) name"
        return f"no environment '{name}' in the repo, the workspace or the curated set"
    if target.kind is Kind.LATEST:
        return None if name in known.active else f"'{name}' has no active version for @latest"
    if target.version in known.versions[name]:
        return None
    shown = ", ".join(sorted(known.versions[name])) or "none"
    return f"'{name}' has no version {target.version} (known versions: {shown})"


def _unknown_in_registry(target: Target, known: Known, registry: str) -> str | None:
    if not in_registry(target, registry) or target.name is None:
        return None
    name, where = target.name, f"registry {registry}"
    if name not in known.versions:
        return f"no environment '{name}' in {where} or in what the plan pushes to it"
    if target.version is None:
        return (
            None if name in known.active else f"'{name}' has no active version in {where} for labels/latest"
        )
    if target.version in known.versions[name]:
        return None
    shown = ", ".join(sorted(known.versions[name])) or "none"
    return f"'{name}' has no version {target.version} in {where} (known versions: {shown})"
