"""What ARM's error codes mean for envsync, and what to do about them.

Codes and message shapes are ARM's documented ones (common-types v3 `ErrorResponse`;
"Troubleshoot common Azure deployment errors"): `AuthorizationFailed` names the refused action
and scope ("The client '…' with object id '…' does not have authorization to perform action
'…' over scope '…' or the scope is invalid."), `SubscriptionNotFound`, `ResourceGroupNotFound`
and `ResourceNotFound` ("The Resource 'Microsoft.MachineLearningServices/workspaces/…' under
resource group '…' was not found.") say which part of a target's id is wrong. Azure ML answers
a workspace closed to the caller's network with "Access to workspace was denied based on
workspace private link configuration."
"""

from __future__ import annotations

import re

DOCS = "docs/connecting-to-azure.md"
_ACTION = re.compile(r"perform action '([^']+)' over scope '([^']+)'")
_OBJECT_ID = re.compile(r"object id '([0-9a-fA-F-]{36})'")
_PARENT = re.compile(r"'Microsoft\.MachineLearningServices/(workspaces|registries)/([^/']+)'", re.IGNORECASE)
PARENT_CODES = frozenset({"SubscriptionNotFound", "ResourceGroupNotFound"})
_PARENT_SCOPE = re.compile(
    r"^.*?/providers/Microsoft\.MachineLearningServices/(workspaces|registries)/[^/]+", re.I
)
_PRIVATE = ("private link", "public network access", "publicnetworkaccess")

# Built-in roles that grant an action (Azure's built-in roles reference): the narrowest first.
ROLE_FOR_REGISTRIES = "AzureML Registry User"
ROLE_FOR_WORKSPACES = "AzureML Data Scientist"
ROLE_TO_READ = "Reader"


def role_for(action: str) -> str:
    """A built-in role that grants `action` at a workspace's or registry's scope."""
    lowered = action.lower()
    if "/registries/" in lowered:
        return ROLE_FOR_REGISTRIES
    if lowered.endswith("/read") and "/workspaces/" in lowered:
        return f"{ROLE_TO_READ} (enough for plan and drift) or {ROLE_FOR_WORKSPACES}"
    return ROLE_FOR_WORKSPACES


def parent_missing(status: int, code: str, message: str) -> bool:
    """Whether a 404 says the subscription, resource group, workspace or registry is missing
    (rather than the asset asked for: an absent environment is an ordinary answer)."""
    if status != 404:
        return False
    return code in PARENT_CODES or (code == "ResourceNotFound" and _PARENT.search(message) is not None)


def hint(status: int, code: str, message: str) -> str:
    """What to do about an ARM error: '' when there is nothing more to say than its message."""
    if code == "AuthorizationFailed":
        return _authorization(message)
    if code == "SubscriptionNotFound":
        return "check the target's subscription_id in envsync.yaml (`az account list` shows yours)"
    if code == "ResourceGroupNotFound":
        return "check the target's resource_group in envsync.yaml (`az group list`)"
    if code == "ResourceNotFound" and (found := _PARENT.search(message)):
        kind = "workspace" if found.group(1).lower() == "workspaces" else "registry"
        return f"no {kind} '{found.group(2)}' there: check the target's {kind} in envsync.yaml"
    if code in ("InvalidAuthenticationTokenTenant", "InvalidTokenTenant"):
        return (
            "the token is from another tenant than the subscription's: `az login --tenant TENANT` "
            "(in CI, azure/login's tenant-id)"
        )
    if code == "ExpiredAuthenticationToken":
        return "the sign-in expired: `az login` again (in CI, run azure/login right before envsync)"
    if code == "MissingSubscriptionRegistration":
        return "`az provider register --namespace Microsoft.MachineLearningServices` on the subscription"
    if status in (401, 403) and any(p in message.lower() for p in _PRIVATE):
        return (
            "the workspace is closed to public network access: run envsync from a network with a "
            "private endpoint to it (e.g. a self-hosted runner in its virtual network)"
        )
    return ""


def _authorization(message: str) -> str:
    found = _ACTION.search(message)
    if found is None:
        return f"the principal lacks a role at this scope: see {DOCS}"
    action, scope = found.groups()
    parent = _PARENT_SCOPE.match(scope)
    scope = parent.group(0) if parent else scope  # roles are granted on the workspace, not an asset
    principal = _OBJECT_ID.search(message)
    who = f"principal {principal.group(1)}" if principal else "the signed-in principal"
    return f"{who} may not perform {action}: grant it {role_for(action)} on {scope} (see {DOCS})"
