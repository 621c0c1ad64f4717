"""Environment assets ⇄ the JSON bodies of the Azure ML REST API.

Shapes follow `EnvironmentVersionResource` and `EnvironmentContainerResource` in
Azure/azure-rest-api-specs: specification/machinelearningservices/resource-manager/
Microsoft.MachineLearningServices/stable/2025-12-01/mfe.json (and its examples
`Workspace/EnvironmentVersion/createOrUpdate.json`, `Workspace/EnvironmentContainer/get.json`).
The client and the emulator both use this module, so they cannot drift apart.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from envsync.content.fingerprint import normalize_inference_config, normalize_os_type, without_nulls
from envsync.workspace import BuildContext, Container, RemoteVersion, VersionBody
from envsync.workspace.azure import fields

CONTAINER_TYPE = "Microsoft.MachineLearningServices/workspaces/environments"
VERSION_TYPE = "Microsoft.MachineLearningServices/workspaces/environments/versions"
# What a PUT may carry (mfe.json 2025-12-01, `EnvironmentVersion` and `EnvironmentContainer`
# with their bases, readOnly fields left out). A resent GET keeps only these, as azure-ai-ml
# does by reading into its model: a field the service adds (a newer api-version's, or a
# read-only one) is never echoed back into a request.
_WRITABLE_VERSION = frozenset(
    {
        "description",
        "tags",
        "properties",
        "isAnonymous",
        "isArchived",
        "autoRebuild",
        "build",
        "condaFile",
        "image",
        "inferenceConfig",
        "osType",
        "stage",
    }
)
_WRITABLE_CONTAINER = frozenset({"description", "tags", "properties", "isArchived"})
# The service refuses these name prefixes to users (azureml-api.md §3), so a container that
# carries one is one of Microsoft's curated environments; containers have no environmentType.
CURATED_PREFIXES = ("AzureML", "Microsoft")
_OS_TYPES = {"linux": "Linux", "windows": "Windows"}


# -- requests the client sends ------------------------------------------------------------------


def version_request(body: VersionBody) -> dict[str, Any]:
    """The PUT body for a version: everything, since a PUT replaces the stored body."""
    props: dict[str, Any] = {}
    if body.description is not None:
        props["description"] = body.description
    props["tags"] = dict(body.tags)
    props["properties"] = dict(body.properties)
    props["isAnonymous"] = False
    props["isArchived"] = body.archived
    if body.image is not None:
        props["image"] = body.image
    if body.conda_file is not None:
        props["condaFile"] = body.conda_file
    if body.build is not None:
        props["build"] = {"contextUri": body.build.context_uri, "dockerfilePath": body.build.dockerfile_path}
    props["osType"] = _OS_TYPES.get(normalize_os_type(body.os_type), body.os_type)
    if body.inference_config:
        props["inferenceConfig"] = copy.deepcopy(dict(body.inference_config))
    return {"properties": props}


def resend_version(resource: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """A GET result turned back into a PUT body with `changes` applied to its properties.

    Every writable field the service returned is kept, fields envsync does not model included
    (say `autoRebuild` set by az ml): dropping one would change the version's immutable content
    and earn a 409, or silently reset it. Nulls are left out (absent means the same)."""
    return {"properties": _writable(resource, _WRITABLE_VERSION, changes)}


def resend_container(resource: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    return {"properties": _writable(resource, _WRITABLE_CONTAINER, changes)}


def _writable(
    resource: Mapping[str, Any], writable: frozenset[str], changes: Mapping[str, Any]
) -> dict[str, Any]:
    props = {k: v for k, v in fields.obj(resource, "properties", "properties").items() if k in writable}
    props.update(changes)
    cleaned: dict[str, Any] = copy.deepcopy(without_nulls(props))
    return cleaned


# -- responses the client parses ----------------------------------------------------------------


def version_from_json(name: str, resource: Mapping[str, Any]) -> RemoteVersion:
    """The version a resource describes; a field of the wrong type is a `fields.BadField`."""
    props = fields.obj(resource, "properties", "properties", required=True)
    return RemoteVersion(
        name=name,
        version=fields.name(resource),
        body=body_from_properties(props),
        created=fields.text(
            fields.obj(resource, "systemData", "systemData"), "createdAt", "systemData.createdAt"
        )
        or "",
        curated=fields.text(props, "environmentType", "properties.environmentType") == "Curated",
    )


def body_from_properties(props: Mapping[str, Any], at: str = "properties") -> VersionBody:
    """The version a resource's properties describe, read tolerantly: what the service adds
    (nulls such as `inferenceConfig.startupRoute`, fields envsync does not model) is ignored.
    What envsync reads, or resends (`stage`, `autoRebuild`), must have its spec's type."""
    for key in ("stage", "autoRebuild"):
        fields.text(props, key, f"{at}.{key}")
    return VersionBody(
        image=fields.text(props, "image", f"{at}.image"),
        conda_file=fields.text(props, "condaFile", f"{at}.condaFile"),
        build=_build(props, at),
        os_type=normalize_os_type(fields.text(props, "osType", f"{at}.osType")),
        inference_config=normalize_inference_config(_inference_config(props, at)),
        description=fields.text(props, "description", f"{at}.description"),
        tags=fields.string_map(props, "tags", f"{at}.tags"),
        properties=fields.string_map(props, "properties", f"{at}.properties"),
        archived=fields.flag(props, "isArchived", f"{at}.isArchived"),
    )


def _build(props: Mapping[str, Any], at: str) -> BuildContext | None:
    build = fields.obj(props, "build", f"{at}.build")
    uri = fields.text(build, "contextUri", f"{at}.build.contextUri")
    dockerfile = fields.text(build, "dockerfilePath", f"{at}.build.dockerfilePath")
    return BuildContext(uri, dockerfile or "Dockerfile") if uri else None


def _inference_config(props: Mapping[str, Any], at: str) -> Mapping[str, Any] | None:
    """`inferenceConfig` (mfe.json `InferenceContainerProperties`): routes of a path and a port."""
    config = fields.obj(props, "inferenceConfig", f"{at}.inferenceConfig")
    for key, route in config.items():
        where = f"{at}.inferenceConfig.{key}"
        if route is None:
            continue
        if not isinstance(route, dict):
            raise fields.bad(where, route, "an object")
        fields.text(route, "path", f"{where}.path")
        port = route.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
            raise fields.bad(f"{where}.port", port, "an integer")
    return config or None


def container_resource_of(container: Container) -> dict[str, Any]:
    """The writable part of the resource `container` was read from (all of it is modelled)."""
    props = {
        "description": container.description,
        "tags": dict(container.tags),
        "properties": dict(container.properties),
        "isArchived": container.archived,
    }
    return {"name": container.name, "properties": props}


def container_from_json(resource: Mapping[str, Any]) -> Container:
    """The container a resource describes; a field of the wrong type is a `fields.BadField`."""
    props = fields.obj(resource, "properties", "properties", required=True)
    name = fields.name(resource)
    return Container(
        name=name,
        latest_version=fields.text(props, "latestVersion", "properties.latestVersion"),
        next_version=fields.text(props, "nextVersion", "properties.nextVersion"),
        archived=fields.flag(props, "isArchived", "properties.isArchived"),
        curated=fields.text(props, "environmentType", "properties.environmentType") == "Curated"
        or name.startswith(CURATED_PREFIXES),
        description=fields.text(props, "description", "properties.description"),
        tags=fields.string_map(props, "tags", "properties.tags"),
        properties=fields.string_map(props, "properties", "properties.properties"),
    )


# -- resources the emulator returns -------------------------------------------------------------


def version_resource(workspace_id: str, version: RemoteVersion) -> dict[str, Any]:
    """The resource a GET returns: the request shape plus id/name/type, read-only fields and
    systemData."""
    props = version_request(version.body)["properties"]
    props["environmentType"] = "Curated" if version.curated else "UserCreated"
    props["autoRebuild"] = "Disabled"
    resource_id = f"{workspace_id}/environments/{version.name}/versions/{version.version}"
    return _resource(resource_id, version.version, VERSION_TYPE, props, version.created)


def container_resource(workspace_id: str, container: Container, created: str = "") -> dict[str, Any]:
    props: dict[str, Any] = {}
    if container.description is not None:
        props["description"] = container.description
    props["tags"] = dict(container.tags)
    props["properties"] = dict(container.properties)
    props["isArchived"] = container.archived
    if container.latest_version is not None:
        props["latestVersion"] = container.latest_version
    if container.next_version is not None:
        props["nextVersion"] = container.next_version
    resource_id = f"{workspace_id}/environments/{container.name}"
    return _resource(resource_id, container.name, CONTAINER_TYPE, props, created)


def _resource(resource_id: str, name: str, kind: str, props: dict[str, Any], created: str) -> dict[str, Any]:
    """ARM's envelope around a resource's properties."""
    return {
        "id": resource_id,
        "name": name,
        "type": kind,
        "properties": {**props, "provisioningState": "Succeeded"},
        "systemData": system_data(created),
    }


def system_data(created: str) -> dict[str, str]:
    return {
        "createdAt": created,
        "createdBy": "envsync-emulator",
        "createdByType": "Application",
        "lastModifiedAt": created,
        "lastModifiedBy": "envsync-emulator",
        "lastModifiedByType": "Application",
    }


def error_body(code: str, message: str) -> dict[str, Any]:
    """ARM's `ErrorResponse` (common-types v3)."""
    return {"error": {"code": code, "message": message, "details": [], "additionalInfo": []}}
