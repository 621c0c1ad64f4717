"""The steps every command shares: load git's specs, open the target, observe, plan."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from envsync.config import Config, Target
from envsync.errors import SpecError
from envsync.plan.model import Plan
from envsync.plan.observe import observe
from envsync.plan.planner import PlanOptions, plan
from envsync.spec import EnvironmentSpec, load_all
from envsync.workspace import COMMIT_PROPERTY, SOURCE_PROPERTY, Workspace


def load_specs(config: Config, paths: Sequence[Path] = ()) -> tuple[EnvironmentSpec, ...]:
    """Git's environments; any invalid file stops everything (nothing is planned or applied)."""
    loaded = load_all(config, paths)
    if loaded.errors:
        count = len(loaded.errors)
        raise SpecError(
            f"{count} problem{'s' * (count != 1)} in environment files; nothing planned",
            details=tuple(str(p) for p in loaded.problems),
        )
    return loaded.specs


def plan_options(config: Config, target: Target) -> PlanOptions:
    return PlanOptions(
        target=target.name,
        root=config.root,
        ignore_tags=config.ignore_tags,
        exclude=config.exclude,
    )


def make_plan(
    config: Config,
    target: Target,
    workspace: Workspace,
    specs: Sequence[EnvironmentSpec],
    *,
    commit: str | None = None,
    refresh: bool = False,
) -> Plan:
    observed = observe(
        workspace,
        specs,
        concurrency=config.concurrency,
        exclude=config.exclude,
        ignore_tags=config.ignore_tags,
        refresh=refresh,
    )
    result = plan(specs, observed, plan_options(config, target))
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return replace(result, commit=commit, created=now)


def provenance_for(config: Config) -> Callable[[EnvironmentSpec], dict[str, str]]:
    """Provenance properties for the versions apply creates: repo-relative source, git commit."""
    from envsync import gitops

    repo = gitops.repo_at(config.root)

    def properties(spec: EnvironmentSpec) -> dict[str, str]:
        found = gitops.provenance(repo, config.root, spec.source)
        props = {SOURCE_PROPERTY: found.source}
        if found.commit:
            props[COMMIT_PROPERTY] = found.commit
        return props

    return properties
