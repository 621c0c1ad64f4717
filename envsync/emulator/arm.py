"""The emulator's ARM operations: environment containers and versions, the default datastore
with its secrets, and (`endpoints.py`) online and batch endpoints with their deployments.
Paths, status codes and bodies follow mfe.json 2025-12-01
(EnvironmentContainers_*, EnvironmentVersions_*, Datastores_Get, Datastores_ListSecrets)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import unquote

from envsync.emulator import endpoints, realism
from envsync.emulator.core import (
    API_VERSIONS,
    DATASTORE,
    Backend,
    Reply,
    Request,
    arm_error,
    page,
)
from envsync.emulator.spec_check import Spec, load_spec
from envsync.emulator.storage import SecretsRefused, credentials
from envsync.errors import NotFoundError, WorkspaceError
from envsync.workspace import ListView
from envsync.workspace.azure import armjson
from envsync.workspace.local.workspace import LocalWorkspace

Handler = Callable[[Backend, Request, str, LocalWorkspace, list[str]], Reply]
_ORDERS = {"createdtime desc": False, "createdtime asc": True}  # value → reverse newest-first
T = TypeVar("T")


def handle_arm(backend: Backend, req: Request, workspace_id: str, rest: str) -> Reply:
    version = req.query.get("api-version")
    if not version:
        return arm_error(400, "MissingApiVersionParameter", "The api-version query parameter is required.")
    if version not in API_VERSIONS:
        supported = ", ".join(sorted(API_VERSIONS))
        message = f"No registered resource provider for API version '{version}' (supported: {supported})."
        return arm_error(400, "NoRegisteredProviderFound", message)
    parts = [unquote(p) for p in rest.strip("/").split("/")] if rest.strip("/") else []
    handler, allowed = _resolve(req.method, parts)
    if handler is None:
        if allowed:
            return arm_error(405, "MethodNotAllowed", f"{req.method} is not supported on this resource.")
        return arm_error(404, "NotFound", f"The emulator does not serve {req.method} {req.path}.")
    problem = spec_problem(req, version, workspace_id, parts)
    if problem:
        return arm_error(400, "UserError", problem)
    space, lock = backend.open(backend.key(workspace_id))
    try:
        with lock:
            reply = handler(backend, req, workspace_id, space, parts)
        return _answered(backend, req, workspace_id, parts, reply)
    except NotFoundError as e:
        return arm_error(404, e.code or "UserError", str(e))
    except WorkspaceError as e:
        return arm_error(e.status or 400, e.code or "UserError", str(e))


@functools.cache
def _spec() -> Spec:
    return load_spec()


def spec_problem(req: Request, api_version: str, workspace_id: str, parts: list[str]) -> str | None:
    """How the request breaks the REST spec. The emulator holds one spec, 2025-12-01's: requests
    at the other api-versions it serves go unchecked."""
    spec = _spec()
    if spec.api_version != api_version:
        return None
    workspace = workspace_id.rsplit("/", 1)[1]
    problem = spec.request_problem(req.method, workspace, parts, req.query, req.body)
    return problem and f"The request does not match the API spec (mfe.json {spec.api_version}): {problem}"


def _answered(backend: Backend, req: Request, ws: str, parts: list[str], reply: Reply) -> Reply:
    """`reply` as `--realism` shapes it; with `check_responses` (tests), a 500 naming how an
    answer breaks the REST spec."""
    if backend.realism and reply.status < 300:
        key = backend.key(ws)
        where = {"account": backend.storage.account(key), "container": backend.storage.container(key)}
        forms = functools.partial(realism.datastore_form, workspace_id=ws, datastore=DATASTORE, **where)
        reply = Reply(reply.status, realism.decorate(reply.payload, forms), reply.headers)
        if req.method == "PUT" and parts[:1] == ["environments"]:  # the shapes recorded for them
            url = f"{req.base_url}{req.path}?{req.raw_query}"
            status, headers = realism.written(reply.status, reply.headers, url, version=len(parts) == 4)
            reply = Reply(status, reply.payload, headers)
    spec = _spec()
    if backend.check_responses and req.query.get("api-version") == spec.api_version:
        problem = spec.response_problem(req.method, parts, reply.status, reply.payload)
        if problem:
            return arm_error(
                500, "ResponseSpecViolation", f"The emulator's answer breaks mfe.json: {problem}"
            )
    return reply


def _resolve(method: str, parts: list[str]) -> tuple[Handler | None, bool]:
    """The handler for `method` on `parts`, and whether the path exists for some method."""
    shape = tuple(p if i % 2 == 0 else "*" for i, p in enumerate(parts))
    routes = _ROUTES.get(shape, {})
    return routes.get(method), bool(routes)


# -- containers -----------------------------------------------------------------------------------


def _view(req: Request) -> ListView:
    try:
        return ListView(req.query.get("listViewType", ListView.ACTIVE.value))
    except ValueError:
        message = "listViewType must be ActiveOnly, ArchivedOnly or All"
        raise WorkspaceError(message, code="UserError") from None


def _shown(archived: bool, view: ListView) -> bool:
    return view is ListView.ALL or archived == (view is ListView.ARCHIVED)


def _listed(backend: Backend, ws: str, items: Iterable[T], key: Callable[[T], tuple[str, ...]]) -> list[T]:
    """`items` as the list shows them: as they were the list lag ago (`lag.py`)."""
    if backend.lag is None:
        return list(items)
    prefix = backend.key(ws)
    return backend.lag.listed(items, lambda item: (prefix, *key(item)))


def _record(backend: Backend, ws: str, space: LocalWorkspace, name: str) -> None:
    """After a write: the environment's container and versions as they are now, for lagging lists."""
    if backend.lag is None:
        return
    prefix = backend.key(ws)
    container = space.get_environment(name)
    if container is not None:
        backend.lag.record((prefix, name), container)
    for version in space.list_versions(name, ListView.ALL):
        backend.lag.record((prefix, name, version.version), version)


def list_containers(backend: Backend, req: Request, ws: str, space: LocalWorkspace, _: list[str]) -> Reply:
    view = _view(req)
    if backend.lag is None:
        items = list(space.list_environments(view))
    else:
        found = _listed(backend, ws, space.list_environments(ListView.ALL), lambda c: (c.name,))
        items = [c for c in found if _shown(c.archived, view)]
    return page(backend, req, items, lambda c: armjson.container_resource(ws, c))


def get_container(backend: Backend, req: Request, ws: str, space: LocalWorkspace, parts: list[str]) -> Reply:
    found = space.get_environment(parts[1])
    if found is None:
        return arm_error(404, "UserError", f"Environment {parts[1]} not found.")
    return Reply(200, armjson.container_resource(ws, found))


def put_container(backend: Backend, req: Request, ws: str, space: LocalWorkspace, parts: list[str]) -> Reply:
    name, props = parts[1], _properties(req)
    if space.get_environment(name) is None:
        # LocalWorkspace creates containers with their first version only.
        return arm_error(404, "UserError", f"Environment {name} not found: create a version first.")
    space.update_environment(name, description=props.get("description"), tags=dict(props.get("tags") or {}))
    if "isArchived" in props:
        space.set_archived(name, None, bool(props["isArchived"]))
    updated = space.get_environment(name)
    assert updated is not None
    _record(backend, ws, space, name)
    return Reply(200, armjson.container_resource(ws, updated))


# -- versions -------------------------------------------------------------------------------------


def list_versions(backend: Backend, req: Request, ws: str, space: LocalWorkspace, parts: list[str]) -> Reply:
    order = req.query.get("$orderBy", "createdtime desc").strip().lower()
    if order not in _ORDERS:
        return arm_error(400, "UserError", f"$orderBy must be one of: {', '.join(_ORDERS)}.")
    view, name = _view(req), parts[1]
    if backend.lag is None:
        items = space.list_versions(name, view)
    else:
        found = _listed(backend, ws, space.list_versions(name, ListView.ALL), lambda v: (name, v.version))
        items = [v for v in found if _shown(v.archived, view)]
    if _ORDERS[order]:
        items = list(reversed(items))
    return page(backend, req, items, lambda v: armjson.version_resource(ws, v))


def get_version(backend: Backend, req: Request, ws: str, space: LocalWorkspace, parts: list[str]) -> Reply:
    found = space.get_version(parts[1], parts[3])
    if found is None:
        return arm_error(404, "UserError", f"Environment {parts[1]} with version {parts[3]} not found.")
    return Reply(200, armjson.version_resource(ws, found))


def put_version(backend: Backend, req: Request, ws: str, space: LocalWorkspace, parts: list[str]) -> Reply:
    name, version = parts[1], parts[3]
    body = armjson.body_from_properties(_properties(req))
    existed = space.get_version(name, version) is not None
    stored = space.create_version(name, version, body)
    _record(backend, ws, space, name)
    return Reply(200 if existed else 201, armjson.version_resource(ws, stored))


def _properties(req: Request) -> dict[str, Any]:
    doc = req.json()
    props = doc.get("properties") if isinstance(doc, dict) else None
    if not isinstance(props, dict):
        raise WorkspaceError("The request body must be a JSON object with 'properties'.", code="UserError")
    return props


# -- datastores -----------------------------------------------------------------------------------


def get_datastore(backend: Backend, req: Request, ws: str, space: LocalWorkspace, parts: list[str]) -> Reply:
    if parts[1] != DATASTORE:
        return arm_error(404, "UserError", f"Datastore {parts[1]} not found.")
    storage, key = backend.storage, backend.key(ws)
    props = {
        "description": "Emulated default blob datastore",
        "tags": {},
        "isDefault": True,
        "credentials": credentials(storage.secrets_type),
        "datastoreType": "AzureBlob",
        "accountName": storage.account(key),
        "containerName": storage.container(key),
        # Azure's DNS suffix ("core.windows.net") cannot place an emulated account: its URL.
        "endpoint": storage.endpoint(key, req.base_url),
        "protocol": "https",
    }
    resource = {
        "id": f"{ws}/datastores/{DATASTORE}",
        "name": DATASTORE,
        "type": "Microsoft.MachineLearningServices/workspaces/datastores",
        "properties": props,
    }
    return Reply(200, resource)


def list_secrets(backend: Backend, req: Request, ws: str, space: LocalWorkspace, parts: list[str]) -> Reply:
    if parts[1] != DATASTORE:
        return arm_error(404, "UserError", f"Datastore {parts[1]} not found.")
    try:
        return Reply(200, backend.storage.secrets(backend.key(ws)))
    except SecretsRefused:
        message = (
            f"Datastore {DATASTORE} uses identity-based access (credentialsType None): "
            "it has no secrets to list; use an Azure AD token with a storage data role."
        )
        return arm_error(400, "UserError", message)


_ROUTES: dict[tuple[str, ...], dict[str, Handler]] = {
    ("environments",): {"GET": list_containers},
    ("environments", "*"): {"GET": get_container, "PUT": put_container},
    ("environments", "*", "versions"): {"GET": list_versions},
    ("environments", "*", "versions", "*"): {"GET": get_version, "PUT": put_version},
    ("datastores", "*"): {"GET": get_datastore},
    ("datastores", "*", "listSecrets"): {"POST": list_secrets},
    **endpoints.ROUTES,  # online and batch endpoints and their deployments
}
