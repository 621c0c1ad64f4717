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
from envsync.http.origins import check_storage_token
from envsync.http.redact import one_line, redact
from envsync.http.retrying import RetryNotice
from envsync.http.session import HttpOptions, TokenCredential, ca_bundle, is_loopback
from envsync.workspace.azure import fields, paths
from envsync.workspace.azure.arm import ArmSession
from envsync.workspace.azure.fields import answered

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
    op = f"GET {paths.datastore(datastore)}"
    found = session.get(paths.datastore(datastore))
    if found is None:
        raise WorkspaceError(f"{op}: 404 the workspace has no such datastore")
    with answered(op):
        props = fields.obj(found, "properties", "properties", required=True)
        kind = fields.text(props, "datastoreType", "properties.datastoreType")
        if kind not in ("AzureBlob", "AzureDataLakeGen2"):
            raise WorkspaceError(f"datastore {datastore}: {kind!r} cannot hold build contexts")
        account, container, endpoint, protocol = _location(props)
    account_url = _account_url(datastore, account, endpoint, protocol)
    https = account_url.startswith("https://")
    credential, auth, secrets = _credential(session, datastore, account, props, token, https=https)
    if auth.startswith(Auth.TOKEN) and not https:
        # azure-core sends bearer tokens over https only (and so should we).
        raise WorkspaceError(
            f"datastore {datastore}: its blobs are reached with an Azure AD token, which goes over "
            f"https only, and its storage endpoint {account_url} is plain http"
        )
    if auth.startswith(Auth.TOKEN):
        # The answer chose the host: a compromised endpoint must not collect the identity's token.
        check_storage_token(f"datastore {datastore}", account_url)
    client = _container_client(account_url, container, credential, session.options)
    suffix = "core.windows.net" if "://" in endpoint else endpoint
    return BlobStore(datastore, account, container, suffix, auth, client, secrets)


def _location(props: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """A blob datastore's account, container, endpoint and protocol (mfe.json
    `AzureBlobDatastore`; a Data Lake Gen2 one names its container `filesystem`)."""
    read = {key: fields.text(props, key, f"properties.{key}") for key in _LOCATION}
    container = read["containerName"] or read["filesystem"] or ""
    return (
        read["accountName"] or "",
        container,
        read["endpoint"] or "core.windows.net",
        read["protocol"] or "https",
    )


_LOCATION = ("accountName", "containerName", "filesystem", "endpoint", "protocol")


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
    with answered(f"GET {paths.datastore(datastore)}"):
        credentials = fields.obj(props, "credentials", "properties.credentials")
        kind = fields.text(credentials, "credentialsType", "properties.credentials.credentialsType")
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
    with answered(f"POST {paths.list_secrets(datastore)}"):
        given = fields.text(secrets, "secretsType", "secretsType")
        sas = fields.text(secrets, "sasToken", "sasToken") if given == "Sas" else None
        key = fields.text(secrets, "key", "key") if given == "AccountKey" else None
    if sas:
        sas = sas.lstrip("?")
        return sas, Auth.SAS, (sas,)
    if key:
        try:
            base64.b64decode(key, validate=True)  # a malformed key fails here, not deep in signing
        except ValueError:
            raise WorkspaceError(
                f"POST {paths.list_secrets(datastore)}: the account key is not base64"
            ) from None
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
    ARM session's schedule: exponential from `backoff`, capped, with jitter; each retry reported
    to `options.on_retry` as the ARM session's are."""
    from azure.storage.blob import ExponentialRetry

    class _Retry(ExponentialRetry):
        def get_backoff_time(self, settings: dict[str, Any]) -> float:
            delay = min(options.backoff_max, options.backoff * 2 ** settings["count"])
            return float(delay + random.uniform(0, options.jitter))  # noqa: S311 - jitter

        def sleep(self, settings: dict[str, Any], transport: Any) -> None:
            wait = self.get_backoff_time(settings)
            if options.on_retry is not None:
                options.on_retry(_notice(settings, wait, options.retries + 1))
            if wait > 0:
                transport.sleep(wait)

    retries = options.retries
    return _Retry(retry_total=retries, retry_connect=retries, retry_read=retries, retry_status=retries)


def _notice(settings: dict[str, Any], wait: float, attempts: int) -> RetryNotice:
    """What the last attempt of a blob request met, from azure-core's retry history."""
    last = (settings.get("history") or [None])[-1]
    request = getattr(getattr(last, "http_request", None), "method", "") or "request"
    status = getattr(getattr(last, "http_response", None), "status_code", None)
    error = getattr(last, "error", None)
    reason = f"{status}" if status else type(error).__name__ if error else "failed"
    return RetryNotice(f"{request} blob", int(settings.get("count", 0)), attempts, reason, wait)


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
