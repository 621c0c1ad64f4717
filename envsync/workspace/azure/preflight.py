"""`envsync doctor` against an Azure ML workspace or registry: each request a plan or an apply
makes first, made once, read-only, and reported as a `Check` with the fix.

The principal's rights come from `GET {scope}/providers/Microsoft.Authorization/permissions`
(api-version 2022-04-01), the effective actions and notActions of every role assignment that
applies at the scope, compared with what envsync needs. Actions are named as Azure ML names
its operations (`…/workspaces/environments/write`, `…/registries/assets/write`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from envsync.errors import EnvsyncError
from envsync.http.credentials import describe_credential
from envsync.workspace.azure.arm_errors import DOCS, role_for
from envsync.workspace.azure.workspace import AzureMLWorkspace
from envsync.workspace.preflight import Check, failed, grants, passed

PERMISSIONS_API = "2022-04-01"
ML = "Microsoft.MachineLearningServices"
WORKSPACE_NEEDS = (
    ("plan", f"{ML}/workspaces/environments/read"),
    ("apply", f"{ML}/workspaces/environments/write"),
    ("apply", f"{ML}/workspaces/datastores/read"),
)
LIST_SECRETS = f"{ML}/workspaces/datastores/listsecrets/action"
REGISTRY_NEEDS = (("plan", f"{ML}/registries/assets/read"), ("apply", f"{ML}/registries/assets/write"))


def azure_checks(workspace: AzureMLWorkspace, *, registry: bool) -> Iterator[Check]:
    """The checks in order; after one that leaves nothing to build on, the rest are skipped."""
    yield (signed_in := _credential(workspace))
    if not signed_in.ok:
        return
    found = _resource(workspace, registry)
    yield from found
    if not all(c.ok for c in found):
        return
    entries = _permissions(workspace)
    yield entries if isinstance(entries, Check) else _rights(entries, registry, workspace)
    if registry:
        yield _attempt("registry data plane", lambda: _dataplane(workspace))
        return
    yield _attempt("environments readable", lambda: _environments(workspace))
    yield from _storage(workspace)


def _attempt(name: str, work: Callable[[], str]) -> Check:
    try:
        return passed(name, work())
    except EnvsyncError as e:
        return failed(name, str(e))


def _credential(workspace: AzureMLWorkspace) -> Check:
    session = workspace.session
    try:
        claims = session.token_claims()
    except EnvsyncError as e:
        return failed("credential", f"{describe_credential(session.credential)}: {e}")
    described = describe_credential(session.credential)  # after the sign-in: the chain's choice
    if not claims:
        return passed("credential", f"{described} (not a JWT: no tenant or principal to show)")
    who = claims.get("upn") or claims.get("unique_name") or claims.get("appid") or claims.get("azp")
    kind = claims.get("idtyp") or ("user" if claims.get("upn") else "app")
    principal = f"principal {claims.get('oid', '?')}" + (f" ({kind} {who})" if who else "")
    return passed("credential", f"{described}: tenant {claims.get('tid', '?')}, {principal}")


def _resource(workspace: AzureMLWorkspace, registry: bool) -> list[Check]:
    kind = "registry" if registry else "workspace"
    try:
        resource = workspace.session.resource()
    except EnvsyncError as e:
        if getattr(e, "status", None) is None:  # no answer at all
            return [failed("ARM reachable", str(e))]
        return [passed("ARM reachable", workspace.session.origin), failed(f"{kind} exists", str(e))]
    props = resource.get("properties") or {}
    access = str(props.get("publicNetworkAccess") or "Enabled")
    detail = f"{resource.get('name', '?')} in {resource.get('location', '?')}, public network access {access}"
    return [passed("ARM reachable", workspace.session.origin), passed(f"{kind} exists", detail)]


def _permissions(workspace: AzureMLWorkspace) -> list[dict[str, Any]] | Check:
    try:
        entries = workspace.session.permissions(PERMISSIONS_API)
    except EnvsyncError as e:
        fix = f"the principal needs Microsoft.Authorization/*/read there (Reader has it; see {DOCS})"
        return failed("permissions", str(e), fix)
    return entries


def _rights(entries: list[dict[str, Any]], registry: bool, workspace: AzureMLWorkspace) -> Check:
    needs = REGISTRY_NEEDS if registry else WORKSPACE_NEEDS
    missing = [(phase, action) for phase, action in needs if not grants(entries, action)]
    if not missing:
        phases = "plan and apply"
        extra = "" if registry or grants(entries, LIST_SECRETS) else "; no listSecrets: key-less storage only"
        return passed("permissions", f"everything {phases} need{extra}")
    actions = ", ".join(f"{action} ({phase})" for phase, action in missing)
    role = role_for(missing[-1][1])
    scope = workspace.session.base_url.removeprefix(workspace.session.origin)
    return failed("permissions", f"missing {actions}", f"grant the principal {role} on {scope} (see {DOCS})")


def _environments(workspace: AzureMLWorkspace) -> str:
    next(iter(workspace.list_environments()), None)
    return "the environment list answers"


def _storage(workspace: AzureMLWorkspace) -> Iterator[Check]:
    from envsync.workspace.azure.storage import Auth

    try:
        store = workspace.blob_store()
    except EnvsyncError as e:
        yield failed("default datastore", str(e))
        return
    identity = store.auth.startswith(Auth.TOKEN)
    how = "identity-based: Azure AD token" if identity else f"by {store.auth}"
    where = f"{store.datastore}: account {store.account}, container {store.container}"
    yield passed("default datastore", f"{where}, {how}")
    yield _attempt("blob container reachable", lambda: _list_one(store))


def _list_one(store: Any) -> str:
    from azure.core.exceptions import AzureError

    from envsync.workspace.azure.storage import storage_error

    try:
        next(iter(store.client.list_blobs(name_starts_with="LocalUpload/", results_per_page=1)), None)
    except AzureError as e:
        raise storage_error(f"list blobs in {store.container}", e, store) from None
    return f"listed {store.container} with {store.auth}"


def _dataplane(workspace: AzureMLWorkspace) -> str:
    from envsync.workspace.azure.registry import AzureMLRegistry

    assert isinstance(workspace, AzureMLRegistry)
    return f"discovery names {workspace.dataplane_url()}"
