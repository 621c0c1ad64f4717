"""The Workspace contract for live usage: every backend lists the online and batch deployments
a workspace holds, with the environment id each runs, across pages (the emulator pages by 3);
a registry holds none. Deployments are made as a user's az ml would (`tests.workspace.deployments`)."""

from __future__ import annotations

from envsync.workspace import Workspace
from envsync.workspace.deployments import Deployment
from tests.workspace.deployments import BATCH, ONLINE, deploy

ARM_ENV = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
    "Microsoft.MachineLearningServices/workspaces/ws/environments/churn/versions/3"
)


def test_a_new_workspace_has_no_deployments(workspace: Workspace) -> None:
    assert list(workspace.list_deployments()) == []


def test_every_deployment_is_listed_with_its_environment(deploying_workspace: Workspace) -> None:
    workspace = deploying_workspace
    for i in range(4):  # more endpoints than a page holds
        deploy(workspace, ONLINE, f"scoring-{i}", "blue", f"azureml:churn:{i}")
    deploy(workspace, ONLINE, "scoring-0", "green", "azureml:churn@latest")
    deploy(workspace, BATCH, "nightly", "main", ARM_ENV)
    deploy(workspace, BATCH, "nightly", "model-only", None)
    found = sorted(workspace.list_deployments(), key=lambda d: (d.kind.value, d.endpoint, d.name))
    assert found == [
        Deployment(BATCH, "nightly", "main", ARM_ENV),
        Deployment(BATCH, "nightly", "model-only", None),
        *(Deployment(ONLINE, f"scoring-{i}", "blue", f"azureml:churn:{i}") for i in range(1)),
        Deployment(ONLINE, "scoring-0", "green", "azureml:churn@latest"),
        *(Deployment(ONLINE, f"scoring-{i}", "blue", f"azureml:churn:{i}") for i in range(1, 4)),
    ]


def test_redeploying_replaces_the_environment(deploying_workspace: Workspace) -> None:
    workspace = deploying_workspace
    deploy(workspace, ONLINE, "churn-scoring", "blue", "azureml:churn:1")
    deploy(workspace, ONLINE, "churn-scoring", "blue", "azureml:churn:2")
    assert [d.environment_id for d in workspace.list_deployments()] == ["azureml:churn:2"]
    assert next(iter(workspace.list_deployments())).describe() == (
        "online deployment blue of endpoint churn-scoring"
    )
