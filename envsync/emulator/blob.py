"""The emulator's Blob service: Put Blob, Get Blob, Get Blob Properties, Set Blob Metadata and
List Blobs, path-style at `/_blob/{account}/{container}/{blob}` (URL mapping: `workspace/azure/upload.py`).

Every request must carry the datastore's credential: the SAS that listSecrets handed out (its
`sig`), or a valid Shared Key signature when the emulator hands out an account key. That is how
tests prove the client sends it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from email.utils import formatdate
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

from envsync.emulator.core import Backend, Reply, Request
from envsync.workspace.azure.upload import string_to_sign
from envsync.workspace.local.workspace import LocalWorkspace

META = "x-ms-meta-"


def blob_error(status: int, code: str, message: str) -> Reply:
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()
    return Reply(status, xml, {"x-ms-error-code": code, "Content-Type": "application/xml"})


def handle_blob(backend: Backend, req: Request, rest: str) -> Reply:
    """`rest` is the raw path after `/_blob/`: `{account}/{container}[/{blob}]`."""
    pieces = rest.split("/", 2)
    if len(pieces) == 2 and pieces[1] and req.query.get("comp") == "list":
        pieces.append("")
    if len(pieces) < 3 or not pieces[1]:
        return blob_error(400, "InvalidUri", "Expected /_blob/{account}/{container}/{blob}.")
    account, container_raw, blob_raw = pieces
    key = backend.workspace_of(account)
    if key is None:
        message = f"Unknown storage account {account}: GET the datastore first."
        return blob_error(404, "AccountNotFound", message)
    resource = f"/{container_raw}/{blob_raw}" if blob_raw else f"/{container_raw}"
    if not _authorised(backend, req, account, resource):
        return blob_error(403, "AuthenticationFailed", "Server failed to authenticate the request.")
    container, blob = unquote(container_raw), unquote(blob_raw)
    space, lock = backend.open(key)
    with lock:
        if not blob:
            return _list(space, req, container, backend.page_size)
        return _dispatch(space, req, container, blob)


def _list(space: LocalWorkspace, req: Request, container: str, page_size: int) -> Reply:
    """List Blobs: names under `prefix`, `page_size` at a time; the marker is the next name."""
    if req.method != "GET" or req.query.get("restype") != "container":
        return blob_error(400, "UnsupportedHttpVerb", "Only List Blobs is served on a container.")
    marker = req.query.get("marker", "")
    names = [n for n in space.list_blobs(container, req.query.get("prefix", "")) if n >= marker]
    body = ['<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs>']
    body += [f"<Blob><Name>{escape(n)}</Name></Blob>" for n in names[:page_size]]
    body.append("</Blobs>")
    body.append(
        f"<NextMarker>{escape(names[page_size])}</NextMarker>" if len(names) > page_size else "<NextMarker/>"
    )
    body.append("</EnumerationResults>")
    return Reply(200, "".join(body).encode(), {**_stamp(), "Content-Type": "application/xml"})


def _dispatch(space: LocalWorkspace, req: Request, container: str, blob: str) -> Reply:
    comp = req.query.get("comp")
    if req.method == "PUT" and comp == "metadata":
        if space.get_blob(container, blob) is None:
            return blob_error(404, "BlobNotFound", "The specified blob does not exist.")
        space.set_blob_metadata(container, blob, _metadata(req.headers))
        return Reply(200, None, _stamp())
    if req.method == "PUT" and comp is None:
        if req.headers.get("x-ms-blob-type") != "BlockBlob":
            return blob_error(400, "MissingRequiredHeader", "x-ms-blob-type: BlockBlob is required.")
        space.put_blob(container, blob, req.body, _metadata(req.headers))
        md5 = base64.b64encode(hashlib.md5(req.body).digest()).decode()  # noqa: S324 - Content-MD5
        return Reply(201, None, {**_stamp(), "Content-MD5": md5})
    if req.method in ("GET", "HEAD") and comp is None:
        found = space.get_blob(container, blob)
        if found is None:
            return blob_error(404, "BlobNotFound", "The specified blob does not exist.")
        data, metadata = found
        headers = {**_stamp(), "x-ms-blob-type": "BlockBlob", **{META + k: v for k, v in metadata.items()}}
        return Reply(200, data, headers)
    return blob_error(400, "UnsupportedHttpVerb", f"The emulator does not support {req.method} here.")


def _metadata(headers: Mapping[str, str]) -> dict[str, str]:
    return {k[len(META) :]: v for k, v in headers.items() if k.startswith(META)}


def _stamp() -> dict[str, str]:
    return {"Last-Modified": formatdate(usegmt=True), "x-ms-version": "2023-11-03"}


def _authorised(backend: Backend, req: Request, account: str, path: str) -> bool:
    # A registry's uploads always carry the SAS of a temporary data reference.
    if backend.secrets_type == "AccountKey" and not backend.is_registry(backend.workspace_of(account)):
        return _shared_key_ok(backend, req, account, path)
    expected = parse_qs(backend.sas(account))["sig"][0]
    sent = req.query.get("sig")
    return sent is not None and hmac.compare_digest(sent, expected)


def _shared_key_ok(backend: Backend, req: Request, account: str, path: str) -> bool:
    auth = req.headers.get("authorization", "")
    prefix = f"SharedKey {account}:"
    if not auth.startswith(prefix):
        return False
    query = {k: v[0] for k, v in parse_qs(req.raw_query, keep_blank_values=True).items()}
    text = string_to_sign(account, req.method, path, query, req.headers)
    mac = hmac.new(backend.account_key(account), text.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(auth[len(prefix) :], base64.b64encode(mac).decode())
