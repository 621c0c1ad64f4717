"""`--realism`: answers shaped the way the service may shape them, so a client that demands an
exact echo of what it sent fails against the emulator too (issue: apply's read-back).

Each shape below was recorded from the live service; docs/real-service.md gives the source.

- Nullable fields the client never sent come back as null: a version's `description` and
  `stage`, and `inferenceConfig.startupRoute` (new in 2025-12-01); a container's `description`
  comes back `""`, its `nextVersion` a timestamp of the read (`2022-09-14-20-33-51-5820890`).
- Environment PUTs answer 201, updates too, with a `Location` naming the resource.
- A datastore GET carries the credentials' kind only (no `secrets`), `systemData`,
  `serviceDataAccessAuthIdentity` and nulls; error bodies fill `additionalInfo`.
- Registry creates answer as the registry data plane does: 202, a `null` body and a `Location`
  on the emulator's other origin, polled to a bodiless 200 (`polls.py`).
- `condaFile` comes back as JSON text whatever YAML was sent (the same content), and as `""`
  for a version that has none (image-only, build context, curated), as the service answers
  (docs/real-service.md).
- A build context on the workspace's datastore comes back as a datastore URI,
  `azureml://subscriptions/…/workspaces/…/datastores/workspaceblobstore/paths/LocalUpload/…/`,
  another form of the same blobs.
- nextLink carries another api-version than the request's (the spec's own list example does:
  `2025-07-01-preview`); the continuation token stays bound to the request's, so a client that
  follows nextLink verbatim is refused.
- Lists lag writes (`lag.py`), by `--list-lag-ms` (2000 by default under `--realism`).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from envsync.content.fingerprint import parse_conda_text
from envsync.workspace.azure import armjson

NEXT_LINK_API_VERSION = "2025-07-01-preview"  # EX Workspace/EnvironmentVersion/list.json
DEFAULT_LAG_MS = 2000
DATASTORE_TYPE = "Microsoft.MachineLearningServices/workspaces/datastores"


def decorate(payload: Any, datastore_uri: Callable[[str], str | None]) -> Any:
    """A resource, or a page of them, as the service may answer it. `datastore_uri` gives the
    datastore form of a contextUri on the workspace's datastore (None for any other)."""
    if not isinstance(payload, dict):
        return payload
    doc = copy.deepcopy(payload)
    for resource in doc.get("value") or [doc]:
        if isinstance(resource, dict):
            _resource(resource, datastore_uri)
    return doc


def _resource(resource: dict[str, Any], datastore_uri: Callable[[str], str | None]) -> None:
    props = resource.get("properties")
    if not isinstance(props, dict):
        return
    kind = resource.get("type")
    if kind == armjson.CONTAINER_TYPE:
        props.setdefault("description", "")  # REC …test_create_autoincrement.json: "" when unset
        if "nextVersion" in props:
            props["nextVersion"] = timestamp_version(datetime.now(timezone.utc))
        return
    props.setdefault("description", None)
    if kind == DATASTORE_TYPE:
        _datastore(resource, props)
    if kind != armjson.VERSION_TYPE:
        return
    props.setdefault("stage", None)
    props["condaFile"] = conda_as_json(props.get("condaFile"))
    if isinstance(props.get("inferenceConfig"), dict):
        props["inferenceConfig"].setdefault("startupRoute", None)
    build = props.get("build")
    if isinstance(build, dict) and isinstance(build.get("contextUri"), str):
        build["contextUri"] = datastore_uri(build["contextUri"]) or build["contextUri"]


def written(
    status: int, headers: Mapping[str, str], url: str, *, version: bool
) -> tuple[int, dict[str, str]]:
    """A workspace PUT's status and headers as the service gives them: a `Location` naming the
    resource, and 201 for a version even when it existed (REC
    …test_environment_create_or_update_docker_context.json, its second PUT)."""
    return (201 if version else status), {**headers, "Location": url}


def timestamp_version(now: datetime) -> str:
    """A `nextVersion` as the service may answer it: not a number but the time, to 100 ns
    (REC …test_create_autoincrement.json: `2022-09-14-20-33-51-5820890`)."""
    return now.strftime("%Y-%m-%d-%H-%M-%S-") + f"{now.microsecond * 10:07d}"


def _datastore(resource: dict[str, Any], props: dict[str, Any]) -> None:
    """A datastore GET as the service answers it: the credentials' kind only (the secrets
    come from listSecrets alone), nulls for what is unset, the identity used for data access
    and systemData (REC …test_environment_create_or_update_docker_context.json)."""
    credentials = props.get("credentials")
    if isinstance(credentials, dict):
        credentials.pop("secrets", None)
    for field in ("description", "tags", "properties"):
        props[field] = None
    props.setdefault("serviceDataAccessAuthIdentity", "WorkspaceSystemAssignedIdentity")
    resource.setdefault("systemData", armjson.system_data("2022-09-15T03:11:44.0146435+00:00"))


def error(payload: Any) -> Any:
    """An ARM error body with `additionalInfo` filled as the service fills it (REC
    …test_create_autoincrement.json, its 404): where, when, and the inner error's code."""
    if not (isinstance(payload, dict) and isinstance(payload.get("error"), dict)):
        return payload
    doc = copy.deepcopy(payload)
    now = datetime.now(timezone.utc).isoformat()
    doc["error"]["additionalInfo"] = [
        {"type": "ComponentName", "info": {"value": "managementfrontend"}},
        {
            "type": "Correlation",
            "info": {"value": {"operation": uuid.uuid4().hex, "request": uuid.uuid4().hex[:16]}},
        },
        {"type": "Environment", "info": {"value": "eastus"}},
        {"type": "Location", "info": {"value": "eastus"}},
        {"type": "Time", "info": {"value": now}},
        {"type": "InnerError", "info": {"value": {"code": doc["error"].get("code"), "innerError": None}}},
    ]
    return doc


def conda_as_json(text: str | None) -> str:
    """Conda YAML text as the service hands it back: JSON, indented by two; `""` for none."""
    parsed = parse_conda_text(text)
    if parsed is None or text is None:
        return ""
    return text if isinstance(parsed, str) else json.dumps(parsed, indent=2)


def datastore_form(
    uri: str, *, workspace_id: str, account: str, container: str, datastore: str
) -> str | None:
    """`https://{account}.blob.…/{container}/<path>` as `azureml://…/datastores/{datastore}/paths/<path>`."""
    parts = urlsplit(uri)
    host_account = (parts.hostname or "").split(".", 1)[0]
    uri_container, _, path = parts.path.lstrip("/").partition("/")
    if parts.scheme != "https" or (host_account, uri_container) != (account, container) or not path:
        return None
    ids = workspace_id.strip("/").split(
        "/"
    )  # subscriptions/{s}/resourceGroups/{rg}/providers/…/workspaces/{w}
    return (
        f"azureml://subscriptions/{ids[1]}/resourcegroups/{ids[3]}/workspaces/{ids[-1]}"
        f"/datastores/{datastore}/paths/{path}"
    )
