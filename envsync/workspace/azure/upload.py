"""Build-context upload to the workspace's blob datastore, the way az ml does it.

Blobs go to `LocalUpload/<digest>/<dirname>/<relpath>` on the default datastore
(`workspaceblobstore`). The first file in hash order is the "indicator": when it already carries
the metadata `upload_status=completed` the upload is skipped (content-addressed dedupe), and that
metadata is set on it after every other file is uploaded (azureml-api.md §4).

Storage is spoken to with the Blob REST API (Put Blob, Get Blob Properties, Set Blob Metadata),
authorised by the SAS or the account key that `listSecrets` returns (Shared Key, signed below).

Blob URL mapping. The returned contextUri is always Azure's form,
`https://{account}.blob.{endpointSuffix}/{container}/LocalUpload/<digest>/<dirname>/`. Requests go
there too, except when the ARM endpoint is a loopback address (the bundled emulator): then they
go to `{arm endpoint}/_blob/{account}/{container}/{blob}`, path-style like Azurite, which keeps
the Shared Key canonical resource (`/{account}/{container}/{blob}`) identical.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import requests

from envsync.errors import WorkspaceError
from envsync.http.session import is_loopback
from envsync.workspace.azure.arm import ArmSession, error_from_response

BLOB_API_VERSION = "2023-11-03"  # x-ms-version sent to storage
UPLOAD_PREFIX = "LocalUpload"
STATUS_KEY = "upload_status"
COMPLETED = "completed"
_SIGNED_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


@dataclass(frozen=True)
class BlobStore:
    """Where a datastore's blobs live and how requests to them are authorised."""

    account: str
    container: str
    endpoint_suffix: str  # "core.windows.net"
    request_root: str  # requests go to {request_root}/{container}/{blob}
    sas: str | None = field(default=None, repr=False)
    key: bytes | None = field(default=None, repr=False)

    def secrets(self) -> tuple[str, ...]:
        found = [self.sas or ""]
        if self.key:
            found.append(base64.b64encode(self.key).decode())
        return tuple(s for s in found if s)


def upload_context(session: ArmSession, store: BlobStore, directory: Path, digest: str) -> str:
    """Upload `directory` under its content digest unless already there; return contextUri."""
    from envsync.content.context import blob_prefix, context_files, context_uri

    prefix = blob_prefix(digest, directory)
    files = context_files(directory)
    if not files:
        raise WorkspaceError(f"{directory}: the build context is empty")
    indicator = f"{prefix}/{files[0].relpath}"
    if get_metadata(session, store, indicator).get(STATUS_KEY) != COMPLETED:
        with ThreadPoolExecutor(max_workers=max(1, session.options.concurrency)) as pool:
            uploads = pool.map(
                lambda f: put_blob(session, store, f"{prefix}/{f.relpath}", f.path.read_bytes()), files
            )
            list(uploads)  # re-raises the first failure
        # Last, so an interrupted upload is never mistaken for a complete one.
        set_metadata(session, store, indicator, {STATUS_KEY: COMPLETED})
    return context_uri(
        store.account, store.endpoint_suffix, store.container, digest, prefix.rsplit("/", 1)[1]
    )


def open_blob_store(session: ArmSession, datastore: str) -> BlobStore:
    found = session.get(f"datastores/{quote(datastore, safe='')}")
    if found is None:
        raise WorkspaceError(f"GET datastores/{datastore}: 404 the workspace has no such datastore")
    props = found.get("properties") or {}
    if props.get("datastoreType") not in ("AzureBlob", "AzureDataLakeGen2"):
        raise WorkspaceError(
            f"datastore {datastore}: {props.get('datastoreType')} cannot hold build contexts"
        )
    account = str(props.get("accountName") or "")
    container = str(props.get("containerName") or props.get("filesystem") or "")
    suffix = str(props.get("endpoint") or "core.windows.net")
    if is_loopback(session.base_url):
        parts = urlsplit(session.base_url)
        root = f"{parts.scheme}://{parts.netloc}/_blob/{account}"
    else:
        root = f"{props.get('protocol') or 'https'}://{account}.blob.{suffix}"
        if not root.startswith("https://"):
            raise WorkspaceError(f"datastore {datastore}: refusing a non-https storage endpoint")
    secrets = session.post(f"datastores/{quote(datastore, safe='')}/listSecrets")
    return _with_secrets(BlobStore(account, container, suffix, root), secrets, datastore)


def _with_secrets(store: BlobStore, secrets: Mapping[str, Any], datastore: str) -> BlobStore:
    kind = secrets.get("secretsType")
    if kind == "Sas" and secrets.get("sasToken"):
        return replace(store, sas=str(secrets["sasToken"]).lstrip("?"))
    if kind == "AccountKey" and secrets.get("key"):
        return replace(store, key=base64.b64decode(str(secrets["key"])))
    raise WorkspaceError(
        f"datastore {datastore}: its credentials ({kind}) are not an account key or SAS; "
        "envsync cannot upload build contexts to it"
    )


# -- Blob REST operations -----------------------------------------------------------------------


def put_blob(session: ArmSession, store: BlobStore, blob: str, data: bytes) -> None:
    headers = {"x-ms-blob-type": "BlockBlob", "Content-Type": "application/octet-stream"}
    _blob_call(session, store, "PUT", blob, headers=headers, data=data)


def get_metadata(session: ArmSession, store: BlobStore, blob: str) -> dict[str, str]:
    """The blob's `x-ms-meta-*` metadata; empty when the blob does not exist."""
    response = _blob_call(session, store, "HEAD", blob, allow_404=True)
    if response is None:
        return {}
    return {
        k[len("x-ms-meta-") :].lower(): v
        for k, v in response.headers.items()
        if k.lower().startswith("x-ms-meta-")
    }


def set_metadata(session: ArmSession, store: BlobStore, blob: str, metadata: Mapping[str, str]) -> None:
    headers = {f"x-ms-meta-{k}": v for k, v in metadata.items()}
    _blob_call(session, store, "PUT", blob, query={"comp": "metadata"}, headers=headers, data=b"")


def _blob_call(
    session: ArmSession,
    store: BlobStore,
    method: str,
    blob: str,
    *,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    data: bytes | None = None,
    allow_404: bool = False,
) -> requests.Response | None:
    path = quote(f"{store.container}/{blob}", safe="/~")
    all_headers = {
        "x-ms-version": BLOB_API_VERSION,
        "x-ms-date": formatdate(usegmt=True),
        **(headers or {}),
    }
    if data is not None:
        all_headers["Content-Length"] = str(len(data))
    params = dict(query or {})
    if store.key is not None:
        all_headers["Authorization"] = shared_key(
            store.account, store.key, method, f"/{path}", params, all_headers
        )
        url = f"{store.request_root}/{path}" + _query(params)
    else:
        url = f"{store.request_root}/{path}" + _query(params, store.sas)
    op = f"{method} blob {blob}"
    response = session.raw(op, method, url, headers=all_headers, data=data)
    if allow_404 and response.status_code == 404:
        return None
    if response.status_code >= 400:
        raise error_from_response(op, response, store.secrets())
    return response


def _query(params: Mapping[str, str], sas: str | None = None) -> str:
    parts = [f"{quote(k)}={quote(v)}" for k, v in params.items()]
    if sas:
        parts.append(sas)
    return "?" + "&".join(parts) if parts else ""


# -- Shared Key (learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key) -------


def shared_key(
    account: str, key: bytes, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
) -> str:
    """The `Authorization` header value for a Blob request signed with the account key."""
    digest = hmac.new(key, string_to_sign(account, method, path, query, headers).encode(), hashlib.sha256)
    return f"SharedKey {account}:{base64.b64encode(digest.digest()).decode()}"


def string_to_sign(
    account: str, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
) -> str:
    """Blob service Shared Key string-to-sign (version 2015-02-21 and later): the verb, eleven
    standard headers one a line (Content-Length empty when zero), then the canonicalized
    x-ms- headers and resource. `path` is the encoded URI path, e.g. `/container/dir/blob`."""
    lower = {k.lower().strip(): str(v).strip() for k, v in headers.items()}
    standard = [lower.get(name, "") for name in _SIGNED_HEADERS]
    if standard[2] == "0":
        standard[2] = ""
    canonical_headers = "".join(f"{k}:{lower[k]}\n" for k in sorted(lower) if k.startswith("x-ms-"))
    return "\n".join([method.upper(), *standard]) + "\n" + canonical_headers + _resource(account, path, query)


def _resource(account: str, path: str, query: Mapping[str, str] | Sequence[tuple[str, str]]) -> str:
    pairs = query.items() if isinstance(query, Mapping) else query
    grouped: dict[str, list[str]] = {}
    for k, v in pairs:
        grouped.setdefault(k.lower(), []).append(v)
    lines = [f"{k}:{','.join(sorted(grouped[k]))}" for k in sorted(grouped)]
    return "\n".join([f"/{account}{path}", *lines])


def query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """Decoded query parameters of a request (for the emulator's signature check)."""
    return parse_qsl(raw_query, keep_blank_values=True)
