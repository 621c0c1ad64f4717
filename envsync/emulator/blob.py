"""The emulator's built-in Blob service, path-style at `/_blob/{account}/{container}/{blob}`:
Put Blob, Put Block and Put Block List, Get Blob (ranges too), Get Blob Properties, Set Blob
Metadata and List Blobs: what azure-storage-blob sends for envsync's uploads and downloads.
Requests are authorised by `blob_auth.py`. It holds registries' blobs, and the workspaces'
datastore unless `--blob-endpoint` hands out another blob service (Azurite) for it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from email.utils import formatdate
from urllib.parse import unquote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from envsync.emulator.blob_auth import refusal
from envsync.emulator.core import Backend, Reply, Request
from envsync.emulator.storage import BlobKey, BuiltinStorage
from envsync.workspace.local.workspace import LocalWorkspace

META = "x-ms-meta-"
_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


def blob_error(status: int, code: str, message: str) -> Reply:
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
    ).encode()
    return Reply(status, xml, {"x-ms-error-code": code, "Content-Type": "application/xml"})


def handle_blob(backend: Backend, req: Request, rest: str) -> Reply:
    """`rest` is the raw path after `/_blob/`: `{account}/{container}[/{blob}]`."""
    storage = backend.blobs
    pieces = rest.split("/", 2)
    if len(pieces) == 2 and pieces[1] and req.query.get("comp") == "list":
        pieces.append("")
    if len(pieces) < 3 or not pieces[1]:
        return blob_error(400, "InvalidUri", "Expected /_blob/{account}/{container}/{blob}.")
    account, container_raw, blob_raw = pieces
    key = storage.workspace_of(account)
    if key is None:
        return blob_error(
            404, "AccountNotFound", f"Unknown storage account {account}: GET the datastore first."
        )
    # A registry's uploads always carry the SAS of a temporary data reference.
    kind = "Sas" if backend.is_registry(key) else storage.secrets_type
    refused = refusal(storage, req, account, kind)
    if refused is not None:
        return blob_error(403, *refused)
    container, blob = unquote(container_raw), unquote(blob_raw)
    space, lock = backend.open(key)
    with lock:
        if not blob:
            return _list(space, req, container, backend.page_size)
        return _dispatch(space, storage, req, (account, container, blob))


def _list(space: LocalWorkspace, req: Request, container: str, page_size: int) -> Reply:
    """List Blobs: names under `prefix`, `page_size` at a time; the marker is the next name."""
    if req.method != "GET" or req.query.get("restype") != "container":
        return blob_error(400, "UnsupportedHttpVerb", "Only List Blobs is served on a container.")
    marker, prefix = req.query.get("marker", ""), req.query.get("prefix", "")
    names = [n for n in space.list_blobs(container, prefix) if n >= marker]
    body = [f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults ContainerName="{escape(container)}">']
    body.append(f"<Prefix>{escape(prefix)}</Prefix><Blobs>")
    for name in names[:page_size]:
        found = space.get_blob(container, name)
        size = len(found[0]) if found else 0
        body.append(
            f"<Blob><Name>{escape(name)}</Name><Properties><Content-Length>{size}</Content-Length>"
            "<BlobType>BlockBlob</BlobType></Properties></Blob>"
        )
    body.append("</Blobs>")
    body.append(
        f"<NextMarker>{escape(names[page_size])}</NextMarker>" if len(names) > page_size else "<NextMarker/>"
    )
    body.append("</EnumerationResults>")
    return Reply(200, "".join(body).encode(), {**_stamp(), "Content-Type": "application/xml"})


def _dispatch(space: LocalWorkspace, storage: BuiltinStorage, req: Request, key: BlobKey) -> Reply:
    _, container, blob = key
    comp = req.query.get("comp")
    if req.method == "PUT" and comp == "metadata":
        if space.get_blob(container, blob) is None:
            return blob_error(404, "BlobNotFound", "The specified blob does not exist.")
        space.set_blob_metadata(container, blob, _metadata(req.headers))
        return Reply(200, None, _stamp())
    if req.method == "PUT" and comp == "block":
        storage.blocks.stage(key, req.query.get("blockid", ""), req.body)
        return Reply(201, None, _stamp())
    if req.method == "PUT" and comp == "blocklist":
        return _commit(space, storage, req, key)
    if req.method == "PUT" and comp is None:
        if req.headers.get("x-ms-blob-type") != "BlockBlob":
            return blob_error(400, "MissingRequiredHeader", "x-ms-blob-type: BlockBlob is required.")
        return _stored(space, storage, key, [req.body], _metadata(req.headers))
    if req.method in ("GET", "HEAD") and comp is None:
        found = space.get_blob(container, blob)
        if found is None:
            return blob_error(404, "BlobNotFound", "The specified blob does not exist.")
        return _read(req, *found)
    return blob_error(400, "UnsupportedHttpVerb", f"The emulator does not support {req.method} here.")


def _commit(space: LocalWorkspace, storage: BuiltinStorage, req: Request, key: BlobKey) -> Reply:
    """Put Block List: the blob becomes the listed blocks, uncommitted ones first, else the
    blob's committed ones (so a commit retried after a lost answer succeeds, as in Azure)."""
    try:
        ids = [e.text or "" for e in ElementTree.fromstring(req.body)]  # noqa: S314 - our own client's XML
    except ElementTree.ParseError:
        return blob_error(400, "InvalidXmlDocument", "The block list is not valid XML.")
    found = space.get_blob(key[1], key[2])
    parts = storage.blocks.assemble(key, ids, found[0] if found else b"")
    if parts is None:
        return blob_error(400, "InvalidBlockList", "The specified block list is invalid.")
    return _stored(space, storage, key, parts, _metadata(req.headers), ids)


def _stored(
    space: LocalWorkspace,
    storage: BuiltinStorage,
    key: BlobKey,
    parts: list[bytes],
    metadata: dict[str, str],
    ids: list[str] | None = None,
) -> Reply:
    data = b"".join(parts)
    space.put_blob(key[1], key[2], data, metadata)
    sizes = [len(p) for p in parts]
    storage.blocks.commit(key, list(zip(ids, sizes, strict=True)) if ids else [])
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324 - Content-MD5
    return Reply(201, None, {**_stamp(), "Content-MD5": md5, "ETag": _etag(data)})


def _read(req: Request, data: bytes, metadata: Mapping[str, str]) -> Reply:
    headers = {**_stamp(), "x-ms-blob-type": "BlockBlob", "ETag": _etag(data)}
    headers.update({META + k: v for k, v in metadata.items()})
    wanted = _RANGE.match(req.headers.get("x-ms-range") or req.headers.get("range") or "")
    if req.method == "HEAD" or wanted is None:
        return Reply(200, data, headers)
    start = int(wanted[1])
    end = min(int(wanted[2]) if wanted[2] else len(data) - 1, len(data) - 1)
    if start >= len(data):
        return blob_error(
            416, "InvalidRange", "The range specified is invalid for the current size of the resource."
        )
    headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
    return Reply(206, data[start : end + 1], headers)


def _metadata(headers: Mapping[str, str]) -> dict[str, str]:
    return {k[len(META) :]: v for k, v in headers.items() if k.startswith(META)}


def _etag(data: bytes) -> str:
    return '"0x' + hashlib.sha256(data).hexdigest()[:16].upper() + '"'


def _stamp() -> dict[str, str]:
    return {"Last-Modified": formatdate(usegmt=True), "x-ms-version": "2023-11-03"}
