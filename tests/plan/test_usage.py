"""The pure part of live usage: environment ids in every form, which orphans a deployment keeps,
where @latest moves when prune archives the latest active version, and a registry's note."""

from __future__ import annotations

import pytest

from envsync.plan.model import ObservedEnvironment, ObservedState
from envsync.plan.planner import plan
from envsync.plan.usage import REGISTRY_NOTE, archivable, registry_noted, usage_of, with_usage
from envsync.workspace.deployments import Deployment, EndpointKind, EnvironmentUse, environment_use
from tests.plan.test_planner import OPTS, version

ARM = "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices"


@pytest.mark.parametrize(
    ("text", "use"),
    [
        ("azureml:churn:3", EnvironmentUse("churn", "3")),
        ("azureml:churn@latest", EnvironmentUse("churn", None)),
        (f"{ARM}/workspaces/ws1/environments/churn/versions/3", EnvironmentUse("churn", "3")),
        (f"{ARM}/workspaces/WS1/environments/churn/versions/3", EnvironmentUse("churn", "3")),
        (f"{ARM}/workspaces/ws2/environments/churn/versions/3", EnvironmentUse("churn", "3", elsewhere=True)),
        (f"{ARM}/registries/shared/environments/churn/versions/1", EnvironmentUse("churn", "1", "shared")),
        (
            "azureml://registries/shared/environments/churn/labels/latest",
            EnvironmentUse("churn", None, "shared"),
        ),
        (
            "azureml://locations/westeurope/workspaces/0f0e/environments/churn/versions/4",
            EnvironmentUse("churn", "4"),
        ),
        ("azureml:churn", None),  # no version: not an environment id the service writes
        ("azureml:churn@prod", None),  # environments have no other label
        ("", None),
        (None, None),
    ],
)
def test_environment_ids_in_every_form(text: str | None, use: EnvironmentUse | None) -> None:
    assert environment_use(text, "ws1") == use


def online(name: str, environment_id: str) -> Deployment:
    return Deployment(EndpointKind.ONLINE, "churn-scoring", name, environment_id)


def orphaned(*versions: str, unmanaged: tuple[str, ...] = ()) -> ObservedState:
    made = [version(v, "churn", managed=True) for v in versions]
    made += [version(v, "churn") for v in unmanaged]
    made.sort(key=lambda v: v.created, reverse=True)
    return ObservedState(environments={"churn": ObservedEnvironment("churn", versions=tuple(made))})


def test_a_deployment_keeps_its_orphan_and_names_itself() -> None:
    observed = orphaned("1", "2")
    usage = usage_of(
        [
            online("blue", "azureml:churn:1"),
            online("red", f"{ARM}/workspaces/ws2/environments/churn/versions/2"),
        ],
        "ws1",
    )
    result = with_usage(plan([], observed, OPTS), usage, observed)
    kept = {c.version: c.used_by for c in result.changes}
    assert kept == {"1": ("online deployment blue of endpoint churn-scoring",), "2": ()}
    assert [archivable(c, frozenset()) for c in result.changes] == [False, True]


def test_archiving_the_latest_moves_latest_to_the_newest_version_left() -> None:
    observed = orphaned("2", "3", unmanaged=("1",))
    usage = usage_of([online("canary", "azureml:churn@latest")])
    result = with_usage(plan([], observed, OPTS), usage, observed)
    latest = [c for c in result.changes if c.latest_after is not None]
    assert [(c.version, c.latest_after, c.references) for c in latest] == [
        ("3", "1", ("online deployment canary of endpoint churn-scoring",))
    ]


def test_latest_resolves_to_nothing_when_prune_archives_every_active_version() -> None:
    observed = orphaned("1", "2")
    result = with_usage(plan([], observed, OPTS), usage_of([]), observed)
    assert [(c.version, c.latest_after) for c in result.changes] == [("1", None), ("2", "")]


def test_a_protected_or_kept_latest_does_not_move() -> None:
    observed = orphaned("1", "2")
    protected = with_usage(plan([], observed, OPTS), usage_of([]), observed, protected=frozenset({"churn"}))
    assert all(c.latest_after is None for c in protected.changes)
    kept = with_usage(plan([], observed, OPTS), usage_of([online("blue", "azureml:churn:2")]), observed)
    assert all(c.latest_after is None for c in kept.changes)


def test_a_registry_says_it_cannot_see_deployments() -> None:
    result = registry_noted(plan([], orphaned("1"), OPTS))
    assert all(c.message and c.message.endswith(REGISTRY_NOTE) for c in result.changes)
