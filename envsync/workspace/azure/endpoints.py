"""Reading a workspace's online and batch deployments over ARM (what prune must not break).

Paths follow mfe.json 2025-12-01: `OnlineEndpoints_List` (`…/onlineEndpoints`),
`OnlineDeployments_List` (`…/onlineEndpoints/{endpointName}/deployments`), and the same for
`batchEndpoints`; pages are `{value, nextLink}` like every ARM list, at the environments'
api-version, through the same paced session. The cost: one listing per kind of endpoint, then
one per endpoint (its deployments), each as many pages as it has.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from envsync.workspace.azure import fields
from envsync.workspace.azure.arm import ArmSession
from envsync.workspace.azure.paths import segment
from envsync.workspace.deployments import Deployment, EndpointKind

COLLECTIONS = {EndpointKind.ONLINE: "onlineEndpoints", EndpointKind.BATCH: "batchEndpoints"}


def endpoints_path(kind: EndpointKind) -> str:
    return COLLECTIONS[kind]


def deployments_path(kind: EndpointKind, endpoint: str) -> str:
    return f"{COLLECTIONS[kind]}/{segment(endpoint)}/deployments"


def list_deployments(session: ArmSession, *, concurrency: int = 8) -> Iterator[Deployment]:
    """Every deployment of every online and batch endpoint, endpoints by name."""
    endpoints = [
        (kind, _name(item, endpoints_path(kind)))
        for kind in EndpointKind
        for item in session.pages(endpoints_path(kind))
    ]
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        found = pool.map(lambda e: _deployments(session, *e), sorted(endpoints, key=lambda e: e[1]))
        for deployments in list(found):
            yield from deployments


def _deployments(session: ArmSession, kind: EndpointKind, endpoint: str) -> list[Deployment]:
    path = deployments_path(kind, endpoint)
    return [deployment_from_json(kind, endpoint, item, path) for item in session.pages(path)]


def deployment_from_json(kind: EndpointKind, endpoint: str, item: Any, where: str) -> Deployment:
    """A `…DeploymentTrackedResource` as a value; a field of the wrong type is a WorkspaceError
    naming it and the request (an answer is untrusted)."""
    with fields.answered(f"GET {where}"):
        if not isinstance(item, dict):
            raise fields.bad("value[]", item, "an object")
        props = fields.obj(item, "properties", "properties")
        environment_id = fields.text(props, "environmentId", "properties.environmentId")
        return Deployment(kind, endpoint, fields.name(item), environment_id or None)


def _name(item: Any, where: str) -> str:
    with fields.answered(f"GET {where}"):
        if not isinstance(item, dict):
            raise fields.bad("value[]", item, "an object")
        return fields.name(item)
