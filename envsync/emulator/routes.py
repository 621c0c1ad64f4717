"""Which of the emulator's services a request is for: a workspace over ARM, a registry over
ARM (and the status of its operations), or the registry data plane; what ARM throttles, and
what kind of request each one is for the counters."""

from __future__ import annotations

import re
from collections.abc import Mapping

from envsync.emulator import dataplane, polls, realism, registry
from envsync.emulator.arm import handle_arm
from envsync.emulator.core import ARM_PATH, Backend, Reply, Request, arm_error
from envsync.emulator.registry import OPERATION_PATH, REGISTRY_PATH, Registries

BLOB_PREFIX = "/_blob/"
_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)/", re.IGNORECASE)


def served(path: str) -> bool:
    """Whether the emulator serves `path` behind a bearer token (everything but blobs)."""
    return (
        ARM_PATH.match(path) is not None
        or registry.is_registry_path(path)
        or dataplane.is_dataplane_path(path)
    )


def answer(backend: Backend, registries: Registries, req: Request) -> Reply:
    """The reply to an authenticated request for a `served` path."""
    reply = _answer(backend, registries, req)
    if backend.realism and reply.status >= 400:
        return Reply(reply.status, realism.error(reply.payload), reply.headers)
    return reply


def _answer(backend: Backend, registries: Registries, req: Request) -> Reply:
    match = ARM_PATH.match(req.path)
    if match is not None:
        return handle_arm(backend, req, match["ws"], match["rest"] or "")
    found = registry.handle(backend, registries, req) or dataplane.handle(backend, registries, req)
    return found or arm_error(404, "NotFound", f"The emulator does not serve {req.path}.")


def arm_subscription(path: str) -> str | None:
    """The subscription an ARM request counts against (ARM throttles per subscription and
    principal); None for what is not ARM (blobs, the registry data plane)."""
    if ARM_PATH.match(path) is None and not registry.is_registry_path(path):
        return None
    found = _SUBSCRIPTION.match(path)
    return found.group(1) if found else None


_KINDS: dict[tuple[str, ...], str] = {
    ("environments",): "containers.list",
    ("environments", "*"): "containers",
    ("environments", "*", "versions"): "versions.list",
    ("environments", "*", "versions", "*"): "versions",
    ("datastores", "*"): "datastores.get",
    ("datastores", "*", "listSecrets"): "datastores.listSecrets",
    ("datareferences", "*", "versions", "*"): "datareferences",
    **{
        key: f"{collection[:-9]}.{what}"  # online.endpoints.list, batch.deployments.get, ...
        for collection in ("onlineEndpoints", "batchEndpoints")
        for key, what in (
            ((collection,), "endpoints.list"),
            ((collection, "*"), "endpoints"),
            ((collection, "*", "deployments"), "deployments.list"),
            ((collection, "*", "deployments", "*"), "deployments"),
        )
    },
}


def kind_of(method: str, path: str, query: Mapping[str, str]) -> str:
    """What a request does, for the counters: `containers.get`, `versions.put`, `blob.head`;
    registry requests are prefixed `registry.`, polls are `operations.get`, uploads' references
    `dataplane.tempdatarefs`."""
    if path.startswith(BLOB_PREFIX):
        comp = query.get("comp")
        return f"blob.{comp}" if comp in ("metadata", "list") else f"blob.{method.lower()}"
    if OPERATION_PATH.match(path) or polls.POLL_PATH.match(path):
        return "operations.get"
    if dataplane.is_dataplane_path(path):
        return "dataplane.tempdatarefs" if "/tempdatarefs/" in path else "dataplane.discovery"
    match = ARM_PATH.match(path) or REGISTRY_PATH.match(path)
    if match is None:
        return "other"
    parts = (match["rest"] or "").strip("/").split("/")
    kind = _KINDS.get(tuple(p if i % 2 == 0 else "*" for i, p in enumerate(parts)), "other")
    kind = (
        f"{kind}.{method.lower()}"
        if kind.endswith(("containers", "versions", "endpoints", "deployments"))
        else kind
    )
    return kind if ARM_PATH.match(path) else f"registry.{kind}"
