"""The emulator's state and plumbing shared by its ARM and Blob handlers: the workspaces it
serves (`LocalWorkspace`s), request/reply values, opaque continuation tokens and paging.
HTTP mechanics (faults, auth, sockets) live in `server.py`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from envsync.emulator.lag import ListLag
from envsync.emulator.realism import NEXT_LINK_API_VERSION
from envsync.emulator.storage import BuiltinStorage, Storage
from envsync.workspace.azure import armjson
from envsync.workspace.local.workspace import LocalWorkspace

API_VERSIONS = frozenset(
    {"2023-04-01-preview", "2024-10-01", "2025-06-01", "2025-07-01-preview", "2025-09-01", "2025-12-01"}
)
ARM_PATH = re.compile(
    r"^(?P<ws>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.MachineLearningServices"
    r"/workspaces/[^/]+)(?P<rest>/.*)?$",
    re.IGNORECASE,
)
DATASTORE = "workspaceblobstore"


@dataclass(frozen=True)
class Reply:
    status: int
    payload: Any = None  # a JSON value, raw bytes, or None for no body
    headers: Mapping[str, str] = field(default_factory=dict)


def arm_error(status: int, code: str, message: str, **headers: str) -> Reply:
    return Reply(status, armjson.error_body(code, message), headers)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # raw (still percent-encoded) path
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    base_url: str  # http://127.0.0.1:PORT, for absolute nextLinks
    raw_query: str = ""

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


class Backend:
    """The workspaces behind the emulator: one shared `LocalWorkspace`, or (`isolate`) one per
    ARM workspace id, stored next to `db_path`. Each is used under its own lock."""

    def __init__(
        self,
        db_path: Path,
        *,
        isolate: bool,
        secret: bytes,
        page_size: int,
        storage: Storage,
        realism: bool = False,
        list_lag_s: float = 0.0,
        check_responses: bool = False,
    ):
        self.db_path, self.isolate, self.secret = db_path, isolate, secret
        self.page_size, self.storage = max(1, page_size), storage
        self.realism, self.check_responses = realism, check_responses
        self.lag: ListLag[Any] | None = ListLag(list_lag_s) if list_lag_s > 0 else None
        self.next_link_api_version = NEXT_LINK_API_VERSION if realism else None
        # The built-in blob service: the workspaces' datastore, unless `storage` is another
        # service; registries' storage always (their SAS-lent temporary data references).
        self.blobs = storage if isinstance(storage, BuiltinStorage) else BuiltinStorage(secret, "Sas")
        self._lock = threading.Lock()
        self._spaces: dict[str, tuple[LocalWorkspace, threading.RLock]] = {}

    def key(self, workspace_id: str) -> str:
        return workspace_id.lower() if self.isolate else "shared"

    def open(self, key: str) -> tuple[LocalWorkspace, threading.RLock]:
        """The store for `key`: a workspace's (`key()`), or a registry's (`registry:…`, always
        a file of its own, without the curated catalog)."""
        with self._lock:
            if key not in self._spaces:
                path = self.db_path
                if key != "shared":
                    digest = hashlib.sha1(key.encode()).hexdigest()[:12]  # noqa: S324 - a file name
                    path = self.db_path.with_name(f"{self.db_path.stem}-{digest}{self.db_path.suffix}")
                space = LocalWorkspace(path, curated=not self.is_registry(key))
                self._spaces[key] = (space, threading.RLock())
            return self._spaces[key]

    @staticmethod
    def is_registry(key: str | None) -> bool:
        return key is not None and key.startswith("registry:")

    def close(self) -> None:
        with self._lock:
            for space, _ in self._spaces.values():
                space.close()
            self._spaces.clear()


# -- continuation tokens ------------------------------------------------------------------------


def encode_skip(secret: bytes, scope: str, offset: int) -> str:
    """An opaque `$skip`: the offset plus a MAC binding it to this list's path and filters."""
    mac = hmac.new(secret, f"{scope}|{offset}".encode(), hashlib.sha256).hexdigest()[:16]
    return base64.urlsafe_b64encode(f"{offset}.{mac}".encode()).decode().rstrip("=")


def decode_skip(secret: bytes, scope: str, token: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        offset_text, mac = raw.split(".", 1)
        offset = int(offset_text)
    except ValueError:
        return None
    good = hmac.new(secret, f"{scope}|{offset}".encode(), hashlib.sha256).hexdigest()[:16]
    return offset if offset >= 0 and hmac.compare_digest(mac, good) else None


def page(backend: Backend, req: Request, items: list[Any], render: Callable[[Any], Any]) -> Reply:
    """One page of `items`, honouring `$top`, with an absolute nextLink carrying api-version.
    The `$skip` token is bound to the list's path, filters and api-version: a follow-up at
    another api-version (a nextLink followed verbatim under `--realism`) is refused."""
    filters = {k: v for k, v in req.query.items() if k in ("listViewType", "$orderBy", "$top")}
    scope = "|".join([req.path, json.dumps(filters, sort_keys=True), req.query.get("api-version", "")])
    offset = 0
    if "$skip" in req.query:
        found = decode_skip(backend.secret, scope, req.query["$skip"])
        if found is None:
            message = "The continuation token ($skip) is not valid for this list (path, filters, version)."
            return arm_error(400, "UserError", message)
        offset = found
    try:
        top = int(req.query["$top"]) if "$top" in req.query else len(items)
    except ValueError:
        return arm_error(400, "UserError", "$top must be an integer.")
    limit = min(len(items), max(0, top))
    end = min(limit, offset + backend.page_size)
    doc: dict[str, Any] = {"value": [render(i) for i in items[offset:end]]}
    if end < limit:
        skip = encode_skip(backend.secret, scope, end)
        version = backend.next_link_api_version or req.query["api-version"]
        params = {"api-version": version, **filters, "$skip": skip}
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
        doc["nextLink"] = f"{req.base_url}{req.path}?{query}"
    return Reply(200, doc)
