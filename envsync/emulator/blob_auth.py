"""Who may use the built-in blob service: the credential the datastore hands out, checked as
Azure Storage checks it, so the tests prove the client sends it.

- `Sas`: the SAS from listSecrets (its `sig`).
- `AccountKey`: a Shared Key signature (learn.microsoft.com/rest/api/storageservices/
  authorize-with-shared-key), recomputed here; `tests/workspace/test_blob_signing.py` holds it to
  azure-storage-blob's own signing.
- `None` (identity-based, keys disabled): a bearer token whose audience is storage and whose
  lifetime holds; keys and SAS are refused (`KeyBasedAuthenticationNotPermitted`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs, parse_qsl

from envsync.emulator.core import Request
from envsync.emulator.storage import BuiltinStorage
from envsync.http.jwt import claims_of

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
STORAGE_AUDIENCES = ("https://storage.azure.com", "e406a681-f3d4-42a8-90b6-c2b029497af1")
Refusal = tuple[str, str]  # (error code, message)
_AUTH_FAILED = ("AuthenticationFailed", "Server failed to authenticate the request.")


def refusal(storage: BuiltinStorage, req: Request, account: str, kind: str) -> Refusal | None:
    """None when `req` carries this account's credential of `kind` (a secrets type), else
    Azure's code and message."""
    auth = req.headers.get("authorization", "")
    if kind == "None":
        if not auth.startswith("Bearer ") or "sig" in req.query:
            message = "Key based authentication is not permitted on this storage account."
            return ("KeyBasedAuthenticationNotPermitted", message)
        return _token_refusal(auth[len("Bearer ") :], account)
    if kind == "AccountKey":
        return None if _shared_key_ok(storage, req, account) else _AUTH_FAILED
    expected = parse_qs(storage.sas(account))["sig"][0]
    sent = req.query.get("sig")
    return None if sent is not None and hmac.compare_digest(sent, expected) else _AUTH_FAILED


def _token_refusal(token: str, account: str) -> Refusal | None:
    claims = claims_of(token)
    if claims is None:
        return _AUTH_FAILED
    audiences = (*STORAGE_AUDIENCES, f"https://{account}.blob.core.windows.net")
    if str(claims.get("aud", "")).rstrip("/") not in audiences:
        return ("InvalidAuthenticationInfo", "Audience validation failed: not a storage token.")
    now = time.time()
    try:
        if not float(claims["nbf"]) <= now <= float(claims["exp"]):
            return ("InvalidAuthenticationInfo", "Lifetime validation failed. The token is expired.")
    except (KeyError, TypeError, ValueError):
        return _AUTH_FAILED
    return None


def _shared_key_ok(storage: BuiltinStorage, req: Request, account: str) -> bool:
    auth = req.headers.get("authorization", "")
    prefix = f"SharedKey {account}:"
    if not auth.startswith(prefix):
        return False
    query = parse_qsl(req.raw_query, keep_blank_values=True)
    text = string_to_sign(account, req.method, req.path, query, req.headers)
    mac = hmac.new(storage.account_key(account), text.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(auth[len(prefix) :], base64.b64encode(mac).decode())


def string_to_sign(
    account: str,
    method: str,
    path: str,
    query: Mapping[str, str] | Sequence[tuple[str, str]],
    headers: Mapping[str, str],
) -> str:
    """Blob service Shared Key string-to-sign (version 2015-02-21 and later): the verb, eleven
    standard headers one a line (Content-Length empty when zero), then the canonicalized
    x-ms- headers and resource. `path` is the URI path as sent (still percent-encoded), e.g.
    `/container/dir/blob`, or `/_blob/{account}/container/blob` path-style."""
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
