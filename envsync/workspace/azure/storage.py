"""The workspace's blob datastore, reached through azure-storage-blob, authorised as az ml does.

The datastore (`GET datastores/{name}`) says where its blobs live and how it is authorised
(`credentials.credentialsType`). With an account key or a SAS, `listSecrets` hands it over;
an identity-based datastore (`None`, common where storage account keys are disabled) has no
secret, and blobs are reached with the caller's Azure AD token (scope
`https://storage.azure.com/.default`; the identity needs the Storage Blob Data Contributor role on
the storage account). When `listSecrets` is refused (400/401/403: keys disabled, or no
permission to list secrets) the token is used too: azure-ai-ml falls back the same way.

A datastore's `endpoint` is Azure's DNS suffix (`core.windows.net`): blobs are then at
`https://{account}.blob.{endpoint}`. An absolute URL there (`http://127.0.0.1:10000/devstoreaccount1`)
names an emulated blob service's account URL as is (plain http only on a loopback address).
"""

from __future__ import annotations

import base64
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.util.retry import Retry

from envsync.errors import WorkspaceError
from envsync.http.caps import CappedAdapter
from envsync.http.redact import one_line, redact
from envsync.http.session import HttpOptions, TokenCredential, ca_bundle, is_loopback
from envsync.workspace.azure import paths
from envsync.workspace.azure.arm import ArmSession

STORAGE_SCOPE = "https://storage.azure.com/.default"
# One block, one ranged read, one single-shot upload: what a transfer holds in memory per
# thread (the SDK keeps a copy or two of it). azure-storage-blob's defaults (64 MiB puts, 32 MiB
# first reads) would hold a whole file of up to that size per thread. 2 MiB × 8 threads keeps a
# 1 GB context's upload near 90 MB peak RSS (benchmarks/upload.py); 4 MiB was near 150.
BLOCK = 2 << 20
_REFUSED = (400, 401, 403)


class Auth:
    ACCOUNT_KEY = "account key"
    SAS = "SAS"
    TOKEN = "Azure AD token"  # noqa: S105 - a label, not a secret


@dataclass(frozen=True)
class BlobStore:
    """One datastore's blob container and an authorised client for it."""

    datastore: str
    account: str
    container: str
    endpoint_suffix: str  # contextUris name https://{account}.blob.{suffix}/, as az ml writes them
    auth: str  # how requests are authorised (`Auth`), for messages
    client: Any = field(repr=False, compare=False)  # azure.storage.blob.ContainerClient
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)


def open_blob_store(
    session: ArmSession, datastore: str, token: TokenCredential, *, fallback_note: bool = True
) -> BlobStore:
    """Read the datastore and pick its credential: its secret from listSecrets, else `token`."""
    found = session.get(paths.datastore(datastore))
    if found is None:
        raise WorkspaceError(f"GET datastores/{datastore}: 404 the workspace has no such datastore")
    props = found.get("properties") or {}
    if props.get("datastoreType") not in ("AzureBlob", "AzureDataLakeGen2"):
        raise WorkspaceError(
            f"datastore {datastore}: {props.get('datastoreType')} cannot hold build contexts"
        )
    account = str(props.get("accountName") or "")
    container = str(props.get("containerName") or props.get("filesystem") or "")
    endpoint = str(props.get("endpoint") or "core.windows.net")
    account_url = _account_url(datastore, account, endpoint, str(props.get("protocol") or "https"))
    https = account_url.startswith("https://")
    credential, auth, secrets = _credential(session, datastore, account, props, token, https=https)
    client = _container_client(account_url, container, credential, session.options)
    suffix = "core.windows.net" if "://" in endpoint else endpoint
    return BlobStore(datastore, account, container, suffix, auth, client, secrets)


def lent_store(
    account_url: str, account: str, container: str, suffix: str, sas: str, options: HttpOptions
) -> BlobStore:
    """A container lent by a SAS (a registry's temporary data reference), at `account_url`."""
    client = _container_client(account_url, container, sas, options)
    return BlobStore("", account, container, suffix, Auth.SAS, client, (sas,))


def _account_url(datastore: str, account: str, endpoint: str, protocol: str) -> str:
    if "://" in endpoint:
        parts = urlsplit(endpoint)
        if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(endpoint)):
            return endpoint.rstrip("/")
        raise WorkspaceError(
            f"datastore {datastore}: refusing storage endpoint {parts.hostname} over plain http"
        )
    if protocol != "https":
        raise WorkspaceError(f"datastore {datastore}: refusing a non-https storage endpoint")
    return f"https://{account}.blob.{endpoint}"


def _credential(
    session: ArmSession,
    datastore: str,
    account: str,
    props: Mapping[str, Any],
    token: TokenCredential,
    *,
    https: bool = True,
) -> tuple[Any, str, tuple[str, ...]]:
    """The credential for azure-storage-blob, its `Auth` label and the secret values to redact.
    Tokens go over https only (azure-storage-blob's rule too): on a plain-http emulated account a
    refused listSecrets is the error."""
    kind = (props.get("credentials") or {}).get("credentialsType")
    if kind not in ("AccountKey", "Sas"):
        # Identity-based ("None"), and kinds whose secrets envsync does not use (ServicePrincipal,
        # Certificate): the caller's own identity reaches the blobs.
        return token, Auth.TOKEN, ()
    try:
        secrets = session.post(paths.list_secrets(datastore))
    except WorkspaceError as e:
        if e.status in _REFUSED and https:
            return token, f"{Auth.TOKEN} (listSecrets refused: {e.status})", ()
        raise
    if secrets.get("secretsType") == "Sas" and secrets.get("sasToken"):
        sas = str(secrets["sasToken"]).lstrip("?")
        return sas, Auth.SAS, (sas,)
    if secrets.get("secretsType") == "AccountKey" and secrets.get("key"):
        key = str(secrets["key"])
        base64.b64decode(key, validate=True)  # a malformed key fails here, not deep in signing
        return {"account_name": account, "account_key": key}, Auth.ACCOUNT_KEY, (key,)
    return token, f"{Auth.TOKEN} (listSecrets gave no {kind} secret)", ()


def _container_client(account_url: str, container: str, credential: Any, options: HttpOptions) -> Any:
    from azure.core.pipeline.transport import RequestsTransport
    from azure.storage.blob import ContainerClient

    # Like the ARM session: no .netrc or proxy settings read behind our back, TLS always verified
    # against the CA bundle requests would use (REQUESTS_CA_BUNDLE), answers capped in bytes.
    transport = RequestsTransport(
        session=_capped_session(options),
        session_owner=True,
        connection_verify=ca_bundle(),
        connection_timeout=options.connect_timeout,
        read_timeout=options.read_timeout,
    )
    return ContainerClient(
        account_url,
        container,
        credential=credential,
        transport=transport,
        retry_policy=_retry_policy(options),
        max_single_put_size=BLOCK,
        max_block_size=BLOCK,
        max_single_get_size=BLOCK,
        max_chunk_get_size=BLOCK,
    )


def _capped_session(options: HttpOptions) -> requests.Session:
    """The session azure-core would make for itself (no retries of its own: its retry policy
    retries; 32 KiB socket blocks), with `CappedAdapter`: a blob download's answer may hold no
    more than the range it asked for."""
    session = requests.Session()
    session.trust_env = False
    no_retries = Retry(total=False, redirect=False, raise_on_status=False)
    pool = max(options.concurrency, 10)
    adapter = CappedAdapter(pool_maxsize=pool, max_retries=no_retries, blocksize=32768)
    for scheme in ("https://", "http://"):
        session.mount(scheme, adapter)
    return session


def _retry_policy(options: HttpOptions) -> Any:
    """Storage's retry policy (5xx, 408, connection errors; storage throttles with 503) on the
    ARM session's schedule: exponential from `backoff`, capped, with jitter."""
    from azure.storage.blob import ExponentialRetry

    class _Retry(ExponentialRetry):
        def get_backoff_time(self, settings: dict[str, Any]) -> float:
            delay = min(options.backoff_max, options.backoff * 2 ** settings["count"])
            return float(delay + random.uniform(0, options.jitter))  # noqa: S311 - jitter

    retries = options.retries
    return _Retry(retry_total=retries, retry_connect=retries, retry_read=retries, retry_status=retries)


def storage_error(op: str, error: Exception, store: BlobStore) -> WorkspaceError:
    """An azure-core failure as one redacted line: `op: STATUS CODE: message (auth)`."""
    status = getattr(error, "status_code", None)
    code = getattr(error, "error_code", None) or type(error).__name__
    code = str(getattr(code, "value", code))  # azure-storage-blob hands StorageErrorCode members
    message = str(getattr(error, "reason", None) or "") if status else ""
    text = str(getattr(error, "message", "") or error).splitlines()
    first = next((line for line in text if line.strip()), message or "request failed")
    first = first.removeprefix("Operation returned an invalid status ").strip("'")
    hint = _hint(status, code, store)
    line = f"{op}: {status or 'request failed'} {code}: {first} (authorised by {store.auth}){hint}"
    return WorkspaceError(one_line(redact(line, store.secrets)), status=status, code=str(code))


def _hint(status: int | None, code: str, store: BlobStore) -> str:
    """What to do about Azure Storage's refusal (its documented 403 codes)."""
    if status != 403:
        return ""
    if code == "AuthorizationFailure":  # the account's firewall, or public network access disabled
        return (
            "; the storage account's firewall or disabled public network access refuses this network: "
            "allow it (or run from a network with a private endpoint to the account)"
        )
    if code == "KeyBasedAuthenticationNotPermitted":
        return "; the account allows no keys: make the datastore identity-based (credentialsType None)"
    return _ROLE_HINT if store.auth.startswith(Auth.TOKEN) else ""


_ROLE_HINT = (
    "; the identity needs the Storage Blob Data Contributor role (Reader to plan and import) on the "
    "workspace's storage account"
)
