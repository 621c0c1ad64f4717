"""The emulator's online and batch endpoints and their deployments over ARM: create (PUT), get
and list (paged), so tests can hold a deployment on an environment version.

Paths, bodies and status codes follow mfe.json 2025-12-01 (`OnlineEndpoints_*`,
`OnlineDeployments_*`, `BatchEndpoints_*`, `BatchDeployments_*`): tracked resources with a
`location` and `properties`, a PUT answered 201 when it creates and 200 when it replaces. The
service runs these PUTs as long-running operations; the emulator completes them at once and
answers `provisioningState: Succeeded` [infer: envsync only reads deployments, so the
operation's course is not modelled]. Stored in the workspace's `EndpointStore`.
"""

from __future__ import annotations

from typing import Any

from envsync.emulator.core import Backend, Reply, Request, arm_error, page
from envsync.errors import WorkspaceError
from envsync.workspace.deployments import EndpointKind
from envsync.workspace.local.workspace import LocalWorkspace

_COLLECTIONS = {"onlineEndpoints": EndpointKind.ONLINE, "batchEndpoints": EndpointKind.BATCH}
_TYPE = "Microsoft.MachineLearningServices/workspaces/{collection}"
_WRITTEN = ("location", "tags", "identity", "kind", "sku", "properties")  # what a PUT stores
_SECRET = ("keys",)  # EndpointPropertiesBase.keys: create-only, "always returned as null"


def list_endpoints(backend: Backend, req: Request, ws: str, space: LocalWorkspace, parts: list[str]) -> Reply:
    kind = _COLLECTIONS[parts[0]]
    items = space.endpoints.endpoints(kind)
    return page(backend, req, items, lambda e: _resource(ws, parts[:1], e))


def get_endpoint(backend: Backend, req: Request, ws: str, space: LocalWorkspace, parts: list[str]) -> Reply:
    found = space.endpoints.endpoint(_COLLECTIONS[parts[0]], parts[1])
    if found is None:
        return _missing(parts[0], parts[1])
    return Reply(200, _resource(ws, parts[:1], found))


def put_endpoint(backend: Backend, req: Request, ws: str, space: LocalWorkspace, parts: list[str]) -> Reply:
    stored = _stored(req)
    created = space.endpoints.put_endpoint(_COLLECTIONS[parts[0]], parts[1], stored)
    return Reply(201 if created else 200, _resource(ws, parts[:1], {**stored, "name": parts[1]}))


def list_deployments(
    backend: Backend, req: Request, ws: str, space: LocalWorkspace, parts: list[str]
) -> Reply:
    kind, endpoint = _COLLECTIONS[parts[0]], parts[1]
    if space.endpoints.endpoint(kind, endpoint) is None:
        return _missing(parts[0], endpoint)
    items = space.endpoints.deployments_of(kind, endpoint)
    return page(backend, req, items, lambda d: _resource(ws, parts[:3], d))


def get_deployment(backend: Backend, req: Request, ws: str, space: LocalWorkspace, parts: list[str]) -> Reply:
    found = space.endpoints.deployment(_COLLECTIONS[parts[0]], parts[1], parts[3])
    if found is None:
        return arm_error(404, "UserError", f"Deployment {parts[3]} of endpoint {parts[1]} not found.")
    return Reply(200, _resource(ws, parts[:3], found))


def put_deployment(backend: Backend, req: Request, ws: str, space: LocalWorkspace, parts: list[str]) -> Reply:
    stored = _stored(req)
    created = space.endpoints.put_deployment(_COLLECTIONS[parts[0]], parts[1], parts[3], stored)
    return Reply(201 if created else 200, _resource(ws, parts[:3], {**stored, "name": parts[3]}))


def _stored(req: Request) -> dict[str, Any]:
    """What a PUT body keeps: a tracked resource needs its location and properties."""
    doc = req.json()
    if not isinstance(doc, dict) or not isinstance(doc.get("properties"), dict):
        raise WorkspaceError("The request body must be a JSON object with 'properties'.", code="UserError")
    if not isinstance(doc.get("location"), str) or not doc["location"]:
        raise WorkspaceError("The request body must name the resource's 'location'.", code="UserError")
    props = {k: v for k, v in doc["properties"].items() if k not in _SECRET and k != "provisioningState"}
    return {**{k: doc[k] for k in _WRITTEN if k in doc}, "properties": props}


def _resource(ws: str, collection: list[str], stored: dict[str, Any]) -> dict[str, Any]:
    """The tracked resource as GET answers it: id, name and type, provisioning done."""
    name = stored["name"]
    path = "/".join([*collection, name])
    kind = "onlineEndpoints" if collection[0] == "onlineEndpoints" else "batchEndpoints"
    rtype = _TYPE.format(collection=kind if len(collection) == 1 else f"{kind}/deployments")
    props = {**stored.get("properties", {}), "provisioningState": "Succeeded"}
    body = {k: stored[k] for k in _WRITTEN if k in stored and k != "properties"}
    return {"id": f"{ws}/{path}", "name": name, "type": rtype, **body, "properties": props}


def _missing(collection: str, name: str) -> Reply:
    what = "Online" if collection == "onlineEndpoints" else "Batch"
    return arm_error(404, "UserError", f"{what} endpoint {name} not found.")


ROUTES = {
    (collection, *shape): routes
    for collection in _COLLECTIONS
    for shape, routes in (
        ((), {"GET": list_endpoints}),
        (("*",), {"GET": get_endpoint, "PUT": put_endpoint}),
        (("*", "deployments"), {"GET": list_deployments}),
        (("*", "deployments", "*"), {"GET": get_deployment, "PUT": put_deployment}),
    )
}
