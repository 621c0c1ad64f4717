"""Build-context download from the workspace's blob datastore: the reverse of `upload.py`.

A contextUri `https://{account}.blob.{suffix}/{container}/LocalUpload/<digest>/<dirname>/` names
a folder of blobs. They are listed with the Blob REST List Blobs operation (paged by
`NextMarker`) and fetched with Get Blob, authorised the way uploads are (the datastore's SAS or
account key from `listSecrets`), and written under `dest` by their path below the folder.
"""

from __future__ import annotations

from email.utils import formatdate
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urlsplit
from xml.etree import ElementTree

from envsync.errors import WorkspaceError
from envsync.workspace.azure.arm import ArmSession, error_from_response
from envsync.workspace.azure.upload import (
    BLOB_API_VERSION,
    BlobStore,
    _blob_call,
    _query,
    shared_key,
)


def download_context(session: ArmSession, store: BlobStore, context_uri: str, dest: Path) -> None:
    """Write every blob under `context_uri` into `dest`, keeping paths relative to it."""
    prefix = blob_prefix(store, context_uri)
    names = list_blobs(session, store, prefix)
    if not names:
        raise WorkspaceError(f"{context_uri}: no build context blobs there")
    for name in names:
        target = safe_target(dest, name[len(prefix) :], context_uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        response = _blob_call(session, store, "GET", name)
        assert response is not None  # only allow_404 calls return None
        target.write_bytes(response.content)


def blob_prefix(store: BlobStore, context_uri: str) -> str:
    """`LocalUpload/<digest>/<dirname>/` from a contextUri on this datastore's container."""
    parts = urlsplit(context_uri)
    account = parts.hostname.split(".", 1)[0] if parts.hostname else ""
    container, _, folder = unquote(parts.path).lstrip("/").partition("/")
    if (account, container) != (store.account, store.container) or not folder:
        raise WorkspaceError(
            f"{context_uri}: not a folder in the datastore's container "
            f"({store.account}/{store.container}); envsync cannot download it"
        )
    return folder.rstrip("/") + "/"


def safe_target(dest: Path, relpath: str, context_uri: str) -> Path:
    """Where a blob goes; a name that would escape `dest` (`..`, absolute) is refused."""
    rel = PurePosixPath(relpath)
    if not relpath or rel.is_absolute() or ".." in rel.parts:
        raise WorkspaceError(f"{context_uri}: refusing blob path {relpath!r} outside the context")
    return dest.joinpath(*rel.parts)


def list_blobs(session: ArmSession, store: BlobStore, prefix: str) -> list[str]:
    """Names of the blobs under `prefix`, every page of them."""
    names: list[str] = []
    marker = ""
    while True:
        params = {"restype": "container", "comp": "list", "prefix": prefix}
        if marker:
            params["marker"] = marker
        # Storage answers XML; it comes from the workspace's own datastore over https (or the
        # loopback emulator), and ElementTree does not fetch external entities.
        root = ElementTree.fromstring(_list_call(session, store, params))  # noqa: S314
        names += [n.text for n in root.findall("./Blobs/Blob/Name") if n.text]
        marker = root.findtext("NextMarker") or ""
        if not marker:
            return names


def _list_call(session: ArmSession, store: BlobStore, params: dict[str, str]) -> bytes:
    # Upload's blob helper always addresses a blob; List Blobs addresses the container itself.
    path = quote(store.container, safe="~")
    headers = {"x-ms-version": BLOB_API_VERSION, "x-ms-date": formatdate(usegmt=True)}
    if store.key is not None:
        headers["Authorization"] = shared_key(store.account, store.key, "GET", f"/{path}", params, headers)
        url = f"{store.request_root}/{path}" + _query(params)
    else:
        url = f"{store.request_root}/{path}" + _query(params, store.sas)
    op = f"GET blob list {store.container}/{params['prefix']}"
    response = session.raw(op, "GET", url, headers=headers)
    if response.status_code >= 400:
        raise error_from_response(op, response, store.secrets())
    return response.content
