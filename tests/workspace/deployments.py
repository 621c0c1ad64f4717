"""Putting online and batch deployments into a workspace the way a user's az ml would, for the
tests that need one holding an environment version: over ARM (a PUT of the endpoint, then of
the deployment, bodies as mfe.json 2025-12-01 has them) or into a local workspace's store."""

from __future__ import annotations

from typing import Any

from envsync.workspace import Workspace
from envsync.workspace.azure.arm import ArmSession
from envsync.workspace.azure.endpoints import deployments_path, endpoints_path
from envsync.workspace.azure.paths import segment
from envsync.workspace.deployments import EndpointKind
from envsync.workspace.local.workspace import LocalWorkspace

ONLINE, BATCH = EndpointKind.ONLINE, EndpointKind.BATCH


def endpoint_body(kind: EndpointKind) -> dict[str, Any]:
    props: dict[str, Any] = {"authMode": "Key" if kind is ONLINE else "AADToken", "description": "test"}
    return {"location": "westeurope", "tags": {}, "properties": props}


def deployment_body(kind: EndpointKind, environment_id: str | None) -> dict[str, Any]:
    props: dict[str, Any] = {"environmentId": environment_id} if environment_id else {}
    if kind is ONLINE:
        props |= {"endpointComputeType": "Managed", "instanceType": "Standard_DS3_v2"}
    else:
        props |= {"compute": "cpu-cluster", "maxConcurrencyPerInstance": 2}
    return {"location": "westeurope", "tags": {}, "properties": props}


def deploy(
    workspace: Workspace, kind: EndpointKind, endpoint: str, name: str, environment_id: str | None
) -> None:
    """Create (or replace) `endpoint` and its deployment `name` running `environment_id`."""
    if isinstance(workspace, LocalWorkspace):
        workspace.endpoints.put_endpoint(kind, endpoint, endpoint_body(kind))
        workspace.endpoints.put_deployment(kind, endpoint, name, deployment_body(kind, environment_id))
        return
    session = getattr(workspace, "session", None)  # an AzureMLWorkspace, maybe wrapped
    assert isinstance(session, ArmSession), f"{workspace!r} holds no deployments"
    session.put(f"{endpoints_path(kind)}/{segment(endpoint)}", endpoint_body(kind))
    session.put(f"{deployments_path(kind, endpoint)}/{segment(name)}", deployment_body(kind, environment_id))
