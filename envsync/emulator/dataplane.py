"""The registry data plane the emulator serves for build-context uploads, as azure-ai-ml 1.35.2
uses it (`_utils/_registry_utils.py`): discovery, then a temporary data reference.

- `GET /registrymanagement/v1.0/registries/{name}/discovery` names the registry's subscription,
  resource group and `primaryRegionResourceProviderUri` (here: the emulator itself).
- `PUT {that}mferp/managementfrontend/subscriptions/…/registries/{r}/tempdatarefs/{name}/versions/{v}`
  `?api-version=2021-10-01-dataplanepreview` with `{"assetId": "azureml://registries/…",
  "temporaryDataReferenceType": "TemporaryBlobReference"}` answers a container SAS in
  `blobReferenceForConsumption.credential.sasUri`, or 409 when that asset version already exists
  (the SDK then skips the upload).

The ARM spec (mfe.json 2025-12-01) has no pending-upload operation for environments
(`startPendingUpload` exists for codes, models and data only), so this is the one upload path
a registry environment has.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from envsync.emulator.core import Backend, Reply, Request, arm_error
from envsync.emulator.operations import LOCATION
from envsync.emulator.registry import REGISTRY_PATH, Registries

DISCOVERY_PATH = re.compile(
    r"^/registrymanagement/v1\.0/registries/(?P<name>[^/]+)/discovery$", re.IGNORECASE
)
DATAPLANE_PREFIX = "/mferp/managementfrontend"
DATAPLANE_API_VERSION = "2021-10-01-dataplanepreview"
_TEMPDATAREF = re.compile(r"^/tempdatarefs/(?P<name>[^/]+)/versions/(?P<version>[^/]+)$")
BLOB_SUFFIX = "core.windows.net"
UNKNOWN_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def is_dataplane_path(path: str) -> bool:
    return DISCOVERY_PATH.match(path) is not None or path.startswith(DATAPLANE_PREFIX + "/")


def handle(backend: Backend, registries: Registries, req: Request) -> Reply | None:
    """The answer to a discovery or data-plane request; None for any other path."""
    found = DISCOVERY_PATH.match(req.path)
    if found is not None:
        return _discovery(registries, req, found["name"]) if req.method == "GET" else _not_allowed(req)
    if not req.path.startswith(DATAPLANE_PREFIX + "/"):
        return None
    registry = REGISTRY_PATH.match(req.path[len(DATAPLANE_PREFIX) :])
    tempdataref = _TEMPDATAREF.match((registry["rest"] or "") if registry else "")
    if registry is None or tempdataref is None:
        return arm_error(404, "NotFound", f"The emulator does not serve {req.method} {req.path}.")
    if req.method != "PUT":
        return _not_allowed(req)
    if req.query.get("api-version") != DATAPLANE_API_VERSION:
        return arm_error(
            400, "UserError", f"The registry data plane takes api-version={DATAPLANE_API_VERSION}."
        )
    key = registries.seen(registry["sub"], registry["rg"], registry["name"])
    return _temporary_reference(backend, registries, key, registry, tempdataref, req)


def _not_allowed(req: Request) -> Reply:
    return arm_error(405, "MethodNotAllowed", f"{req.method} is not supported on this resource.")


def _discovery(registries: Registries, req: Request, name: str) -> Reply:
    # Every registry exists in the emulator (made up on first use, like its workspaces), so
    # every name is found: where it was used, else placeholders (envsync's client uses its own
    # configured subscription and resource group, not these).
    subscription, group, spelled = registries.lookup(name) or (UNKNOWN_SUBSCRIPTION, "emulator", name)
    return Reply(
        200,
        {
            "registryName": spelled,
            "primaryRegion": LOCATION,
            "regions": [LOCATION],
            "subscriptionId": subscription,
            "resourceGroup": group,
            "primaryRegionResourceProviderUri": req.base_url + "/",
            "registryFqdns": {LOCATION: {}},
        },
    )


def _temporary_reference(
    backend: Backend,
    registries: Registries,
    key: str,
    path: re.Match[str],
    found: re.Match[str],
    req: Request,
) -> Reply:
    registry = path["name"]
    doc = req.json()
    asset = doc.get("assetId") if isinstance(doc, dict) else None
    name, version = found["name"], found["version"]
    expected = f"azureml://registries/{registry}/environments/{name}/versions/{version}"
    if not isinstance(asset, str) or asset.lower() != expected.lower():
        return arm_error(400, "UserError", f"assetId must be {expected}.")
    space, lock = backend.open(key)
    with lock:
        registries.operations.settle(key)
        if space.get_version(name, version) is not None:
            return arm_error(409, "UserError", f"Asset {asset} already exists.")
    account = backend.blobs.account(key)
    container = "tmp" + hashlib.sha256(f"{key}|{name}|{version}".encode()).hexdigest()[:32]
    blob_uri = f"https://{account}.blob.{BLOB_SUFFIX}/{container}"
    reference: dict[str, Any] = {
        "blobUri": blob_uri,
        "storageAccountArmId": (
            f"/subscriptions/{path['sub']}/resourceGroups/{path['rg']}/providers/Microsoft.Storage"
            f"/storageAccounts/{account}"
        ),
        "credential": {"credentialType": "SAS", "sasUri": f"{blob_uri}?{backend.blobs.sas(account)}"},
    }
    return Reply(
        200,
        {
            "blobReferenceForConsumption": reference,
            "temporaryDataReferenceId": container,
            "temporaryDataReferenceType": "TemporaryBlobReference",
        },
    )
