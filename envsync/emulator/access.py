"""What a real workspace says before it says anything about environments: whether the target
exists, who may do what there, whether its network is open, and the workspace itself.

With `EmulatorOptions` left at their defaults every check passes (a principal with `*`). The
answers are ARM's (codes and message shapes as ARM documents them, `arm_errors.py` quotes them):
`SubscriptionNotFound`, `ResourceGroupNotFound`, `ResourceNotFound` for a missing workspace or
registry; `AuthorizationFailed` with the refused action and scope; the permissions list of
`GET {scope}/providers/Microsoft.Authorization/permissions` (`PermissionGetResult`:
`value[].actions/notActions/dataActions/notDataActions`); Azure ML's private link refusal.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from envsync.emulator.core import Reply, Request, arm_error
from envsync.http.jwt import ZERO_GUID, claims_of
from envsync.workspace.preflight import grants

if TYPE_CHECKING:
    from envsync.emulator.options import EmulatorOptions

MISSING = ("subscription", "resource-group", "workspace")
STORAGE_REFUSALS = ("role", "firewall")
PROVIDER = "Microsoft.MachineLearningServices"
_SCOPE = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.MachineLearningServices"
    r"/(?P<kind>workspaces|registries)/(?P<name>[^/]+)(?P<rest>/.*)?$",
    re.IGNORECASE,
)
PERMISSIONS = "/providers/microsoft.authorization/permissions"
PRIVATE_LINK = "Access to workspace was denied based on workspace private link configuration."


def arm_reply(options: EmulatorOptions, req: Request) -> Reply | None:
    """The answer when the target, the principal's rights or the network decide it; else None
    (the request goes on to the environment routes)."""
    found = _SCOPE.match(req.path)
    if found is None:
        return None
    rest = (found["rest"] or "").rstrip("/")
    return (
        _missing(options, found)
        or (_permissions(options) if rest.lower() == PERMISSIONS else None)
        or _refused(options, req, found, rest)
        or (_resource(options, req, found) if not rest and req.method == "GET" else None)
        or _closed(options, found, rest)
    )


def blob_refusal(options: EmulatorOptions, req: Request) -> tuple[str, str] | None:
    """Azure Storage's refusal of a blob request: a firewall (or public access disabled) refuses
    everyone; without a data role an Azure AD token is refused, keys and SAS are not."""
    if options.storage_refusal == "firewall":
        return ("AuthorizationFailure", "This request is not authorized to perform this operation.")
    bearer = req.headers.get("authorization", "").startswith("Bearer ")
    if options.storage_refusal == "role" and bearer:
        message = "This request is not authorized to perform this operation using this permission."
        return ("AuthorizationPermissionMismatch", message)
    return None


def action_of(method: str, kind: str, rest: str) -> str:
    """The ARM action a request needs, as Azure ML names its operations: an environment's or
    its versions' `…/workspaces/environments/write`, a registry's `…/registries/assets/write`,
    a POST to an action segment `…/workspaces/datastores/listsecrets/action`."""
    parts = [unquote(p) for p in rest.strip("/").split("/")] if rest.strip("/") else []
    types = [kind, *(["assets"] if kind == "registries" else parts[:1])] if parts else [kind]
    if method == "POST" and len(parts) % 2 == 1:
        return "/".join([PROVIDER, *types, parts[-1].lower(), "action"])
    verb = {"GET": "read", "HEAD": "read", "DELETE": "delete"}.get(method, "write")
    return "/".join([PROVIDER, *types, verb])


def allowed(options: EmulatorOptions, action: str) -> bool:
    """ARM's rule: some `actions` pattern matches and no `notActions` one does (case-insensitive)."""
    grant = {"actions": options.principal_actions, "notActions": options.principal_not_actions}
    return grants([grant], action)


def _missing(options: EmulatorOptions, found: re.Match[str]) -> Reply | None:
    if options.missing == "subscription":
        return arm_error(
            404, "SubscriptionNotFound", f"The subscription '{found['sub']}' could not be found."
        )
    if options.missing == "resource-group":
        return arm_error(404, "ResourceGroupNotFound", f"Resource group '{found['rg']}' could not be found.")
    if options.missing == "workspace":
        message = (
            f"The Resource '{PROVIDER}/{found['kind']}/{found['name']}' under resource group "
            f"'{found['rg']}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        )
        return arm_error(404, "ResourceNotFound", message)
    return None


def _permissions(options: EmulatorOptions) -> Reply:
    grant = {
        "actions": list(options.principal_actions),
        "notActions": list(options.principal_not_actions),
        "dataActions": [],
        "notDataActions": [],
    }
    return Reply(200, {"value": [grant], "nextLink": None})


def _refused(options: EmulatorOptions, req: Request, found: re.Match[str], rest: str) -> Reply | None:
    if rest.lower() == PERMISSIONS:
        return None
    action = action_of(req.method, found["kind"].lower(), rest)
    if allowed(options, action):
        return None
    claims = claims_of(req.headers.get("authorization", "").removeprefix("Bearer ")) or {}
    principal = str(claims.get("oid") or ZERO_GUID)
    scope = req.path.rstrip("/")
    message = (
        f"The client '{principal}' with object id '{principal}' does not have authorization to perform "
        f"action '{action}' over scope '{scope}' or the scope is invalid. If access was recently "
        "granted, please refresh your credentials."
    )
    return arm_error(403, "AuthorizationFailed", message)


def _closed(options: EmulatorOptions, found: re.Match[str], rest: str) -> Reply | None:
    if options.public_network_access == "Enabled" or not rest:
        return None
    return arm_error(403, "UserError", PRIVATE_LINK)


def _resource(options: EmulatorOptions, req: Request, found: re.Match[str]) -> Reply:
    """The workspace's (or registry's) ARM resource, as `Workspaces_Get` returns it."""
    kind = found["kind"].lower()
    scope = f"/subscriptions/{found['sub']}/resourceGroups/{found['rg']}"
    props: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "publicNetworkAccess": options.public_network_access,
        "discoveryUrl": f"{req.base_url}/discovery",
    }
    if kind == "workspaces":
        props |= {
            "friendlyName": found["name"],
            "workspaceId": str(uuid.uuid5(uuid.NAMESPACE_URL, req.path.lower())),
            "storageAccount": f"{scope}/providers/Microsoft.Storage/storageAccounts/emulated",
            "systemDatastoresAuthMode": "identity" if options.secrets_type == "None" else "accessKey",
        }
    resource = {
        "id": req.path.rstrip("/"),
        "name": found["name"],
        "type": f"{PROVIDER}/{kind}",
        "location": options.location,
        "properties": props,
    }
    return Reply(200, resource)
