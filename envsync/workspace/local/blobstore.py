"""The local workspace's blob store: blobs in a SQLite table, keyed by (container, path).

It stands in for the workspace's default blob datastore, so `LocalWorkspace` can keep build
contexts exactly where az ml puts them (`LocalUpload/<digest>/<dirname>/<relpath>`, azureml-api.md
§4) and the emulator can serve its Blob endpoints from the same table. The functions take an open
connection; the caller owns locking and transactions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from envsync.errors import WorkspaceError

SCHEMA = """
CREATE TABLE IF NOT EXISTS blobs (
    container TEXT NOT NULL,
    path TEXT NOT NULL,
    data BLOB NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (container, path)
) WITHOUT ROWID
"""
LOCAL_ACCOUNT = "envsynclocal"  # the storage account contextUris of the local workspace name
LOCAL_SUFFIX = "core.windows.net"
LOCAL_CONTAINER = "workspaceblobstore"
STATUS_KEY = "upload_status"  # az ml's indicator-blob metadata: set last, read to skip
COMPLETED = "completed"


def put_blob(
    db: sqlite3.Connection, container: str, path: str, data: bytes, metadata: Mapping[str, str]
) -> None:
    """Put Blob: create or replace the blob, its metadata included (as Azure Storage does)."""
    db.execute(
        "INSERT INTO blobs (container, path, data, metadata) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (container, path) DO UPDATE SET data = excluded.data, metadata = excluded.metadata",
        (container, path, data, _dump(metadata)),
    )


def get_blob(db: sqlite3.Connection, container: str, path: str) -> tuple[bytes, dict[str, str]] | None:
    row = db.execute(
        "SELECT data, metadata FROM blobs WHERE container = ? AND path = ?", (container, path)
    ).fetchone()
    return None if row is None else (bytes(row[0]), json.loads(row[1]))


def set_blob_metadata(db: sqlite3.Connection, container: str, path: str, metadata: Mapping[str, str]) -> None:
    """Set Blob Metadata: replace all of it. A missing blob is a 404, as in Azure Storage."""
    found = db.execute(
        "UPDATE blobs SET metadata = ? WHERE container = ? AND path = ?", (_dump(metadata), container, path)
    )
    if found.rowcount == 0:
        raise WorkspaceError(f"blob {container}/{path}: the specified blob does not exist", status=404)


def list_blobs(db: sqlite3.Connection, container: str, prefix: str = "") -> list[str]:
    """Blob names under `prefix`, in Azure's order (by UTF-8 bytes, SQLite's BINARY collation)."""
    # substr, not LIKE: blob names may hold % and _.
    rows = db.execute(
        "SELECT path FROM blobs WHERE container = ? AND substr(path, 1, ?) = ? ORDER BY path",
        (container, len(prefix), prefix),
    )
    return [r[0] for r in rows]


def _dump(metadata: Mapping[str, str]) -> str:
    return json.dumps(dict(metadata), sort_keys=True)


# -- build contexts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ContextUpload:
    """One build context laid out for the store: where its blobs go and what they hold."""

    prefix: str  # LocalUpload/<digest>/<dirname>
    indicator: str  # the first file in hash order: it carries upload_status=completed
    files: tuple[tuple[str, bytes], ...]  # (blob path, content)
    context_uri: str


def plan_upload(directory: Path, digest: str) -> ContextUpload:
    """Read `directory` the way az ml uploads it (its files in hash order, under its digest)."""
    from envsync.content.context import blob_prefix, context_files, context_uri

    files = context_files(directory)
    if not files:
        raise WorkspaceError(f"{directory}: the build context is empty")
    prefix = blob_prefix(digest, directory)
    dirname = prefix.rsplit("/", 1)[1]
    return ContextUpload(
        prefix=prefix,
        indicator=f"{prefix}/{files[0].relpath}",
        files=tuple((f"{prefix}/{f.relpath}", f.path.read_bytes()) for f in files),
        context_uri=context_uri(LOCAL_ACCOUNT, LOCAL_SUFFIX, LOCAL_CONTAINER, digest, dirname),
    )


def is_uploaded(db: sqlite3.Connection, indicator: str) -> bool:
    found = get_blob(db, LOCAL_CONTAINER, indicator)
    return found is not None and found[1].get(STATUS_KEY) == COMPLETED


def store_upload(db: sqlite3.Connection, upload: ContextUpload) -> None:
    """Write the blobs, then mark the indicator complete (last, as az ml does)."""
    for path, data in upload.files:
        put_blob(db, LOCAL_CONTAINER, path, data, {})
    set_blob_metadata(db, LOCAL_CONTAINER, upload.indicator, {STATUS_KEY: COMPLETED})


def download(db: sqlite3.Connection, context_uri: str, dest: Path) -> list[tuple[Path, bytes]]:
    """The files a contextUri of this store names, as (target under `dest`, content)."""
    from envsync.content.location import context_folder, safe_target

    prefix = context_folder(
        context_uri, account=LOCAL_ACCOUNT, container=LOCAL_CONTAINER, datastore=LOCAL_CONTAINER
    )
    names = list_blobs(db, LOCAL_CONTAINER, prefix)
    if not names:
        raise WorkspaceError(f"{context_uri}: no build context blobs there")
    found = []
    for name in names:
        blob = get_blob(db, LOCAL_CONTAINER, name)
        assert blob is not None  # listed in the same transaction
        found.append((safe_target(dest, name[len(prefix) :], context_uri), blob[0]))
    return found
