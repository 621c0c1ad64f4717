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

from envsync.content.fingerprint import normalize_os_type
from envsync.workspace import BuildContext, Container, RemoteVersion, VersionBody

CONTAINER_TYPE = "Microsoft.MachineLearningServices/workspaces/environments"
VERSION_TYPE = "Microsoft.MachineLearningServices/workspaces/environments/versions"
# readOnly in the spec: never sent back on a PUT.
_READ_ONLY_VERSION = ("environmentType", "provisioningState")
_READ_ONLY_CONTAINER = ("latestVersion", "nextVersion", "provisioningState")
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

    Everything the service returned is kept, fields envsync does not model included (say
    `autoRebuild` set by az ml): dropping one would change the version's immutable content
    and earn a 409, or silently reset it."""
    props = {k: v for k, v in (resource.get("properties") or {}).items() if k not in _READ_ONLY_VERSION}
    props.update(changes)
    return {"properties": copy.deepcopy(props)}


def resend_container(resource: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    props = {k: v for k, v in (resource.get("properties") or {}).items() if k not in _READ_ONLY_CONTAINER}
    props.update(changes)
    return {"properties": copy.deepcopy(props)}


# -- responses the client parses ----------------------------------------------------------------


def version_from_json(name: str, resource: Mapping[str, Any]) -> RemoteVersion:
    props = resource.get("properties") or {}
    return RemoteVersion(
        name=name,
        version=str(resource.get("name", "")),
        body=body_from_properties(props),
        created=str((resource.get("systemData") or {}).get("createdAt") or ""),
        curated=props.get("environmentType") == "Curated",
    )


def body_from_properties(props: Mapping[str, Any]) -> VersionBody:
    build = props.get("build")
    return VersionBody(
        image=props.get("image"),
        conda_file=props.get("condaFile"),
        build=(
            BuildContext(build["contextUri"], build.get("dockerfilePath") or "Dockerfile")
            if isinstance(build, Mapping) and build.get("contextUri")
            else None
        ),
        os_type=normalize_os_type(props.get("osType")),
        inference_config=props.get("inferenceConfig") or None,
        description=props.get("description"),
        tags=dict(props.get("tags") or {}),
        properties=dict(props.get("properties") or {}),
        archived=bool(props.get("isArchived", False)),
    )


def container_from_json(resource: Mapping[str, Any]) -> Container:
    props = resource.get("properties") or {}
    name = str(resource.get("name", ""))
    return Container(
        name=name,
        latest_version=props.get("latestVersion"),
        next_version=props.get("nextVersion"),
        archived=bool(props.get("isArchived", False)),
        curated=props.get("environmentType") == "Curated" or name.startswith(CURATED_PREFIXES),
        description=props.get("description"),
        tags=dict(props.get("tags") or {}),
        properties=dict(props.get("properties") or {}),
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
