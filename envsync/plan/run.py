"""The steps every command shares: load git's specs, open the target, observe, plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from envsync.config import REGISTRY, Config, Target
from envsync.errors import WorkspaceError
from envsync.plan.model import Action, ObservedState, Plan
from envsync.plan.observe import Early, narrowed, observe, with_missing
from envsync.plan.planner import PlanOptions, plan
from envsync.plan.selection import EVERYTHING, NameFilter
from envsync.plan.usage import Usage
from envsync.spec.load import EnvironmentSpec
from envsync.spec.policy.engine import collected
from envsync.spec.problems import Verdict
from envsync.spec.solving import SOLVABLE
from envsync.workspace import Container, ListView, Workspace


def plan_options(config: Config, target: Target, select: NameFilter = EVERYTHING) -> PlanOptions:
    return PlanOptions(
        target=target.name,
        root=config.root,
        ignore_tags=config.ignore_tags,
        exclude=config.exclude,
        select=select,
    )


def narrow(only: frozenset[str] | None, select: NameFilter) -> frozenset[str] | None:
    """The names a plan reads: `only` (e.g. --changed-since's), within --name's when exact."""
    exact = select.exact
    if exact is None:
        return only
    return exact if only is None else only & exact


def make_plan(
    config: Config,
    target: Target,
    workspace: Workspace,
    specs: Sequence[EnvironmentSpec],
    *,
    commit: str | None = None,
    refresh: bool = False,
    only: frozenset[str] | None = None,
    early: EarlyRead | None = None,
    usage: bool = False,
    select: NameFilter = EVERYTHING,
) -> Plan:
    """Plan `specs` against `workspace`; `only` limits what is observed (and so the orphans
    found) to those names, `select` what is planned (--name/--exclude). `early` is what
    `start_early` began for this target. Live deployments are read when the plan has orphans
    (prune must not archive what runs), or with `usage`: a plan that would archive nothing
    costs no extra request."""
    only = narrow(only, select)
    if early is not None and early.observed is not None and early.only == only:
        observed = early.observed()
        if only is None:  # a --refresh listing made before the specs: plus what it lacked
            specs_known = [s for s in specs if s.name not in config.exclude]
            observed = with_missing(workspace, observed, specs_known, concurrency=config.concurrency)
        elif not refresh:  # names read before the specs were known: read as a plain plan would
            observed = narrowed(observed, specs, config.ignore_tags)
    else:
        observed = observe(
            workspace,
            specs,
            concurrency=config.concurrency,
            exclude=config.exclude,
            ignore_tags=config.ignore_tags,
            refresh=refresh,
            only=only,
            listed=early.listed if early is not None else None,
        )
    from envsync.gitops import context_files

    options = plan_options(config, target, select)
    planned = context_files.annotate(plan(specs, observed, options), observed, config.root)
    result = with_live_usage(planned, config, target, workspace, observed, asked=usage)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    found = policy_verdict(config, target, [s for s in specs if not options.skips(s.name)])
    return replace(
        result,
        commit=commit,
        created=now,
        problems=found.problems,
        suppressed=found.suppressed,
        containers=observed.containers,
    )


def with_live_usage(
    result: Plan,
    config: Config,
    target: Target,
    workspace: Workspace,
    observed: ObservedState,
    *,
    asked: bool,
) -> Plan:
    """`result` with the deployments that run its versions (`plan.usage`), read when it has
    orphans or when `asked`; a registry's orphans say that its users cannot be seen from it."""
    from envsync.plan import usage

    if target.kind == REGISTRY:
        return usage.registry_noted(result)
    if not asked and not result.count(Action.ORPHAN):
        return result
    return usage.with_usage(result, live_usage(target, workspace), observed, protected=config.protected)


def with_latest_followers(config: Config, result: Plan, registry: str | None = None) -> Plan:
    """For apply's own plan (`plan` checks every reference): when prune would move @latest,
    the repository's `@latest` references that move with it."""
    from envsync.plan import references as planned
    from envsync.spec import references

    if all(c.latest_after is None for c in result.changes):
        return result
    scanned = references.scan(config.root, config.references, config.environments)
    return planned.annotate(result, scanned.references, registry)


def in_use_now(target: Target, workspace: Workspace, result: Plan, protected: frozenset[str]) -> Plan:
    """A plan made earlier (saved, or confirmed at a prompt), with the deployments read again
    when it would archive something."""
    from envsync.plan import usage

    if target.kind == REGISTRY or not any(usage.archivable(c, protected) for c in result.changes):
        return result
    return usage.mark_used(result, live_usage(target, workspace))


def live_usage(target: Target, workspace: Workspace) -> Usage:
    """The deployments of `target`'s workspace, by what they run."""
    from envsync.plan import usage

    try:
        return usage.usage_of(workspace.list_deployments(), target.workspace or None)
    except WorkspaceError as e:
        if e.status != 403:  # anything else is a failure of its own, reported as one
            raise
        return usage.unreadable(e.code)


def policy_verdict(config: Config, target: Target, specs: Sequence[EnvironmentSpec]) -> Verdict:
    """What `target`'s policy found in `specs` (while they loaded), plus its reference rule on
    the jobs and deployments that use them, and its solvable rule."""
    from envsync.spec import references
    from envsync.spec.policy import references as reference_policy

    key = config.policy_key(target.name)
    found = collected(specs, key)
    policy = config.policies[key]
    if policy.on(reference_policy.LATEST):  # scanning the repository's YAML is not free
        scanned = references.scan(config.root, config.references, config.environments)
        managed = {s.name for s in specs}
        found = found + reference_policy.check(scanned.references, managed, policy, config.root)
    if policy.on(SOLVABLE):  # solving needs the channels (and its modules): only when it is on
        from envsync.solve import policy as solvable

        found = found + solvable.check(specs, config.solve, policy, config.root)
    return found


@dataclass(frozen=True)
class EarlyRead:
    """What `start_early` began: a whole --refresh observation, or the container listing."""

    observed: Early[ObservedState] | None = None
    listed: Early[list[Container]] | None = None
    only: frozenset[str] | None = None  # the names `observed` covers (None: all)


def start_early(
    config: Config, workspace: Workspace, *, refresh: bool, only: frozenset[str] | None = None
) -> EarlyRead:
    """Begin reading `workspace` before git's YAMLs are loaded, for `make_plan(early=...)`:
    with `refresh` the whole observation (it needs no specs), else the container listing. With
    `only` (names a --changed-since selection will likely have), those names' containers and
    versions: `make_plan` uses them if the selection is just that."""
    if only is not None:
        return EarlyRead(
            observed=Early(
                lambda: observe(workspace, concurrency=config.concurrency, exclude=config.exclude, only=only)
            ),
            only=only,
        )
    if refresh:
        return EarlyRead(
            observed=Early(lambda: observe(workspace, concurrency=config.concurrency, exclude=config.exclude))
        )
    return EarlyRead(listed=Early(lambda: list(workspace.list_environments(ListView.ALL))))
