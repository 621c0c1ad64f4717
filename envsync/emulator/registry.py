"""The emulator's Azure ML registries over ARM: environment containers and versions under
`/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/registries/{r}`,
and the status of the operations their writes start.

Paths, bodies and status codes follow mfe.json 2025-12-01 (`RegistryEnvironmentContainers_*`,
`RegistryEnvironmentVersions_*`, `RegistryDataReferences_GetBlobReferenceSAS`): the same
bodies as a workspace's, reads answered at once, and a PUT that creates an asset answered 201
with `Azure-AsyncOperation` (final state via the original URI). The spec gives the 200 answer
no asynchronous headers, so a PUT to an asset that exists (tags, description, archive) is done
at once; a create stays an `InProgress` operation for `operation_seconds`, invisible to reads
until it succeeds [infer: the service's visibility of a half-made asset is not documented].

Each registry is a `LocalWorkspace` of its own, without the curated catalog (a registry holds
only what was pushed to it), and a storage account of its own for the uploads its
`tempdatarefs` hand out (`emulator/dataplane.py`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from envsync.emulator import arm, polls, realism
from envsync.emulator.core import API_VERSIONS, Backend, Reply, Request, arm_error
from envsync.emulator.operations import IN_PROGRESS, Operations
from envsync.errors import NotFoundError, WorkspaceError
from envsync.workspace import RemoteVersion, VersionBody, names
from envsync.workspace.azure import armjson
from envsync.workspace.local.workspace import RESERVED_PREFIXES, LocalWorkspace

REGISTRY_PATH = re.compile(
    r"^(?P<reg>/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.MachineLearningServices/registries/(?P<name>[^/]+))(?P<rest>/.*)?$",
    re.IGNORECASE,
)
OPERATION_PATH = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.MachineLearningServices/locations/[^/]+"
    r"/(?P<kind>mfeOperationsStatus|mfeOperationResults)/(?P<id>[^/]+)$",
    re.IGNORECASE,
)
KEY_PREFIX = "registry:"
CONTAINER_TYPE = "Microsoft.MachineLearningServices/registries/environments"
VERSION_TYPE = "Microsoft.MachineLearningServices/registries/environments/versions"


@dataclass
class Registries:
    """What the emulator keeps about registries besides their stores: the operations in
    flight, and each registry's ARM coordinates by name (for the dataplane's discovery)."""

    operations: Operations
    _known: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def seen(self, subscription: str, group: str, name: str) -> str:
        with self._lock:
            self._known.setdefault(name.lower(), (subscription, group, name))
        return KEY_PREFIX + f"/subscriptions/{subscription}/resourcegroups/{group}/registries/{name}".lower()

    def lookup(self, name: str) -> tuple[str, str, str] | None:
        with self._lock:
            return self._known.get(name.lower())


def is_registry_path(path: str) -> bool:
    return any(p.match(path) is not None for p in (REGISTRY_PATH, OPERATION_PATH, polls.POLL_PATH))


def handle(backend: Backend, registries: Registries, req: Request) -> Reply | None:
    """The answer to a registry or operation-status request; None for any other path."""
    found = REGISTRY_PATH.match(req.path)
    if found is not None:
        return _checked(req) or _registry(backend, registries, req, found)
    status = OPERATION_PATH.match(req.path)
    if status is not None:
        return _checked(req) or _operation(backend, registries, req, status["kind"], status["id"])
    data_plane = polls.POLL_PATH.match(req.path)
    return None if data_plane is None else polls.poll(backend, registries.operations, req, data_plane["id"])


def _checked(req: Request) -> Reply | None:
    version = req.query.get("api-version")
    if not version:
        return arm_error(400, "MissingApiVersionParameter", "The api-version query parameter is required.")
    if version not in API_VERSIONS:
        return arm_error(
            400, "NoRegisteredProviderFound", f"No registered resource provider for API version '{version}'."
        )
    return None


def _registry(backend: Backend, registries: Registries, req: Request, found: re.Match[str]) -> Reply:
    key = registries.seen(found["sub"], found["rg"], unquote(found["name"]))
    rest = (found["rest"] or "").strip("/")
    parts = [unquote(p) for p in rest.split("/")] if rest else []
    shape = tuple(p if i % 2 == 0 else "*" for i, p in enumerate(parts))
    handler: Handler | None = _ROUTES.get(shape, {}).get(req.method)
    if handler is None:
        if shape in _ROUTES:
            return arm_error(405, "MethodNotAllowed", f"{req.method} is not supported on this resource.")
        return arm_error(404, "NotFound", f"The emulator does not serve {req.method} {req.path}.")
    # Registry assets have a workspace's paths, query parameters and bodies (mfe.json): the same
    # spec check, the registry's name standing for the workspace's (their patterns agree).
    problem = (
        arm.spec_problem(req, req.query["api-version"], found["reg"], parts)
        if parts[:1] == ["environments"]
        else None
    )
    if problem:
        return arm_error(400, "UserError", problem)
    space, lock = backend.open(key)
    context = _Call(backend, registries, req, found["reg"], found["sub"], key, space, parts)
    try:
        with lock:
            registries.operations.settle(key)
            return handler(context)
    except NotFoundError as e:
        return arm_error(404, e.code or "UserError", str(e))
    except WorkspaceError as e:
        return arm_error(e.status or 400, e.code or "UserError", str(e))


@dataclass(frozen=True)
class _Call:
    backend: Backend
    registries: Registries
    req: Request
    registry_id: str
    subscription: str
    key: str
    space: LocalWorkspace
    parts: list[str]

    def arm(self, handler: arm.Handler) -> Reply:
        """A workspace read handler, answered with registry resource types."""
        reply = handler(self.backend, self.req, self.registry_id, self.space, self.parts)
        payload = realism.decorate(reply.payload, lambda _: None) if self.backend.realism else reply.payload
        return Reply(reply.status, _retype(payload), reply.headers)


Handler = Callable[[_Call], Reply]


def _retype(payload: Any) -> Any:
    if isinstance(payload, dict) and isinstance(payload.get("value"), list):
        return {**payload, "value": [_retype(item) for item in payload["value"]]}
    if isinstance(payload, dict) and isinstance(payload.get("type"), str):
        kind = payload["type"]
        return {**payload, "type": VERSION_TYPE if kind.endswith("/versions") else CONTAINER_TYPE}
    return payload


# -- environments ------------------------------------------------------------------------------


def _list_containers(call: _Call) -> Reply:
    return call.arm(arm.list_containers)


def _get_container(call: _Call) -> Reply:
    return call.arm(arm.get_container)


def _put_container(call: _Call) -> Reply:
    return call.arm(arm.put_container)  # containers are made by their first version: an update


def _list_versions(call: _Call) -> Reply:
    return call.arm(arm.list_versions)


def _get_version(call: _Call) -> Reply:
    return call.arm(arm.get_version)


def _put_version(call: _Call) -> Reply:
    """An existing version is updated at once (200); a new one is an operation (201)."""
    name, version = call.parts[1], call.parts[3]
    if call.space.get_version(name, version) is not None:
        return call.arm(arm.put_version)
    body = armjson.body_from_properties(_properties(call.req))
    _check_new(call.space, name, version)
    space = call.space
    op = call.registries.operations.start(
        call.key, call.subscription, (name, version), lambda: _create(space, name, version, body)
    )
    if call.backend.realism:
        return polls.accepted(op, call.req.base_url)
    preview = armjson.version_resource(call.registry_id, _pending(name, version, body))
    preview["properties"]["provisioningState"] = "Creating"
    base, api = call.req.base_url, call.req.query["api-version"]
    headers = {
        "Azure-AsyncOperation": op.status_url(base, api),
        "Retry-After": str(call.registries.operations.retry_after(op)),
        "x-ms-async-operation-timeout": "PT1H",
    }
    return Reply(201, _retype(preview), headers)


def _create(space: LocalWorkspace, name: str, version: str, body: VersionBody) -> None:
    space.create_version(name, version, body)


def _pending(name: str, version: str, body: VersionBody) -> RemoteVersion:
    return RemoteVersion(name, version, body)


def _properties(req: Request) -> dict[str, Any]:
    doc = req.json()
    props = doc.get("properties") if isinstance(doc, dict) else None
    if not isinstance(props, dict):
        raise WorkspaceError(
            "The request body must be a JSON object with 'properties'.", status=400, code="UserError"
        )
    return props


def _check_new(space: LocalWorkspace, name: str, version: str) -> None:
    """What the service refuses before starting an operation: a bad or reserved name."""
    container = space.get_environment(name)
    if container is None and (not names.valid_name(name) or name.startswith(RESERVED_PREFIXES)):
        raise WorkspaceError(
            f"Environment name {name!r} is invalid: use {names.NAME_RULE}, not starting with AzureML "
            "or Microsoft",
            status=400,
            code="UserError",
        )
    problem = names.version_problem(version)
    if problem is not None:
        raise WorkspaceError(f"Environment {name}: {problem}", status=400, code="UserError")


def _blob_reference(call: _Call) -> Reply:
    """A read SAS for a build context the registry holds (`RegistryDataReferences_GetBlobReferenceSAS`)."""
    doc = call.req.json()
    blob_uri = doc.get("blobUri") if isinstance(doc, dict) else None
    if not isinstance(blob_uri, str) or not blob_uri:
        raise WorkspaceError("The request body must carry a blobUri.", status=400, code="UserError")
    parts = urlsplit(blob_uri)
    account = (parts.hostname or "").split(".", 1)[0]
    container = parts.path.strip("/").split("/", 1)[0]
    if call.backend.blobs.workspace_of(account) != call.key or not container:
        raise WorkspaceError(f"{blob_uri} is not in this registry's storage.", status=400, code="UserError")
    credential = {
        "credentialType": "SAS",
        "sasUri": f"https://{parts.hostname}/{container}?{call.backend.blobs.sas(account)}",
    }
    arm_id = f"/subscriptions/{call.subscription}/providers/Microsoft.Storage/storageAccounts/{account}"
    return Reply(
        200,
        {
            "blobReferenceForConsumption": {
                "blobUri": blob_uri,
                "storageAccountArmId": arm_id,
                "credential": credential,
            }
        },
    )


# -- operation status --------------------------------------------------------------------------


def _operation(backend: Backend, registries: Registries, req: Request, kind: str, op_id: str) -> Reply:
    op = registries.operations.find(op_id)
    if op is None:
        return arm_error(404, "NotFound", f"Operation {op_id} not found.")
    _, lock = backend.open(op.key)
    with lock:
        registries.operations.settle(op.key)
    retry = {"Retry-After": str(registries.operations.retry_after(op))} if op.status == IN_PROGRESS else {}
    if kind.lower() == "mfeoperationsstatus":
        return Reply(200, op.resource(), retry)
    if op.status == IN_PROGRESS:
        return Reply(202, None, {**retry, "Location": op.result_url(req.base_url, req.query["api-version"])})
    if op.error:
        return arm_error(400, str(op.error["code"]), str(op.error["message"]))
    return Reply(204)


_ROUTES: dict[tuple[str, ...], dict[str, Handler]] = {
    ("environments",): {"GET": _list_containers},
    ("environments", "*"): {"GET": _get_container, "PUT": _put_container},
    ("environments", "*", "versions"): {"GET": _list_versions},
    ("environments", "*", "versions", "*"): {"GET": _get_version, "PUT": _put_version},
    ("datareferences", "*", "versions", "*"): {"POST": _blob_reference},
}
