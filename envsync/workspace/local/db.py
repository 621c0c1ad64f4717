"""The local workspace's SQLite rows ⇄ values, and transactions. Opening the file (schema, WAL,
curated seed) is `schema.py`; the Azure ML rules live in `workspace.py`.

Every function takes an open connection; `LocalWorkspace` owns locking and transactions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from envsync.errors import WorkspaceError
from envsync.workspace import BuildContext, Container, ListView, RemoteVersion, VersionBody

NextVersion = Callable[[list[str]], str]  # the rule (local.next_version) stays with the others
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width, so text order is time order
# A version reads as archived when it or its container is (an archived container hides them all).
_HIDDEN = "(v.archived OR c.archived)"
_SELECT_VERSIONS = (
    f"SELECT v.*, c.curated, {_HIDDEN} AS hidden "  # noqa: S608 - constants only, values are bound
    "FROM versions v JOIN containers c ON c.name = v.name WHERE v.name = ?"
)
_VIEWS = {ListView.ACTIVE: f" AND NOT {_HIDDEN}", ListView.ARCHIVED: f" AND {_HIDDEN}", ListView.ALL: ""}
_CONTAINER_VIEWS = {ListView.ACTIVE: " WHERE NOT archived", ListView.ARCHIVED: " WHERE archived"}
_INSERT_VERSION = (
    "INTO versions (name, version, image, conda_file, context_uri, dockerfile_path, os_type, "
    "inference_config, description, tags, properties, archived, created) "
    "VALUES (:name, :version, :image, :conda_file, :context_uri, :dockerfile_path, :os_type, "
    ":inference_config, :description, :tags, :properties, :archived, :created)"
)


def meta(db: sqlite3.Connection, key: str) -> str | None:
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return None
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


# -- transactions -----------------------------------------------------------------------------


@contextmanager
def transaction(db: sqlite3.Connection, begin: str) -> Iterator[None]:
    """`begin` ("BEGIN" to read a snapshot, "BEGIN IMMEDIATE" to write), then COMMIT or ROLLBACK."""
    db.execute(begin)
    try:
        yield
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


@contextmanager
def errors(path: Path) -> Iterator[None]:
    """sqlite3 and file-system failures as one-line WorkspaceErrors naming the file."""
    try:
        yield
    except sqlite3.Error as e:
        busy = "locked" in str(e) or "busy" in str(e)
        hint = " (another process holds it; it was waited for up to the busy timeout)" if busy else ""
        raise WorkspaceError(f"{path}: {e}{hint}") from e
    except OSError as e:
        raise WorkspaceError(f"{path}: {e.strerror or e}") from e


def tick(db: sqlite3.Connection) -> str:
    """Now, in UTC with microseconds, strictly after every time this database issued before:
    the wall clock may step back, "newest first" must not. Call inside a write transaction."""
    now = datetime.now(timezone.utc)
    last = meta(db, "clock")
    if last is not None:
        floor = datetime.strptime(last, _TIME).replace(tzinfo=timezone.utc) + timedelta(microseconds=1)
        now = max(now, floor)
    stamp = now.strftime(_TIME)
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('clock', ?)", (stamp,))
    return stamp


# -- versions ---------------------------------------------------------------------------------


def insert_version(
    db: sqlite3.Connection, name: str, version: str, body: VersionBody, created: str, *, ignore: bool = False
) -> None:
    """A new version, and its container if this is the first (containers are implicit)."""
    db.execute("INSERT OR IGNORE INTO containers (name, created) VALUES (?, ?)", (name, created))
    build = body.build
    row = {
        "name": name,
        "version": version,
        "image": body.image,
        "conda_file": body.conda_file,
        "context_uri": build.context_uri if build else None,
        "dockerfile_path": build.dockerfile_path if build else None,
        "os_type": (body.os_type or "linux").lower(),
        "inference_config": None if body.inference_config is None else dump(body.inference_config),
        "description": body.description,
        "tags": dump(body.tags),
        "properties": dump(body.properties),
        "archived": body.archived,
        "created": created,
    }
    db.execute(("INSERT OR IGNORE " if ignore else "INSERT ") + _INSERT_VERSION, row)


def select_versions(db: sqlite3.Connection, name: str, view: ListView) -> list[RemoteVersion]:
    """Newest first: by creation time, then by insertion order."""
    sql = _SELECT_VERSIONS + _VIEWS[view] + " ORDER BY v.created DESC, v.seq DESC"
    return [_version(r) for r in db.execute(sql, (name,))]


def select_version(db: sqlite3.Connection, name: str, version: str) -> RemoteVersion | None:
    row = db.execute(_SELECT_VERSIONS + " AND v.version = ?", (name, version)).fetchone()
    return None if row is None else _version(row)


def _version(row: sqlite3.Row) -> RemoteVersion:
    build = BuildContext(row["context_uri"], row["dockerfile_path"]) if row["context_uri"] else None
    body = VersionBody(
        image=row["image"],
        conda_file=row["conda_file"],
        build=build,
        os_type=row["os_type"],
        inference_config=None if row["inference_config"] is None else json.loads(row["inference_config"]),
        description=row["description"],
        tags=json.loads(row["tags"]),
        properties=json.loads(row["properties"]),
        archived=bool(row["hidden"]),
    )
    created, curated = row["created"], bool(row["curated"])
    return RemoteVersion(row["name"], row["version"], body, created=created, curated=curated)


# -- containers -------------------------------------------------------------------------------


def container_row(db: sqlite3.Connection, name: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute("SELECT * FROM containers WHERE name = ?", (name,)).fetchone()
    return row


def select_container(db: sqlite3.Connection, name: str, next_version: NextVersion) -> Container | None:
    row = container_row(db, name)
    if row is None:
        return None
    names = [
        r[0] for r in db.execute("SELECT version FROM versions WHERE name = ? ORDER BY created, seq", (name,))
    ]
    return _container(row, names, next_version)


def select_containers(db: sqlite3.Connection, view: ListView, next_version: NextVersion) -> list[Container]:
    """By name; curated ones included. Version names are read in one pass, not per container."""
    by_name: dict[str, list[str]] = {}
    for name, version in db.execute("SELECT name, version FROM versions ORDER BY created, seq"):
        by_name.setdefault(name, []).append(version)
    where = _CONTAINER_VIEWS.get(view, "")
    rows = db.execute(f"SELECT * FROM containers{where} ORDER BY name")  # noqa: S608 - a constant filter
    return [_container(r, by_name.get(r["name"], []), next_version) for r in rows]


def _container(row: sqlite3.Row, versions: list[str], next_version: NextVersion) -> Container:
    return Container(
        name=row["name"],
        latest_version=versions[-1] if versions else None,  # the most recently created one
        next_version=next_version(versions),
        archived=bool(row["archived"]),
        curated=bool(row["curated"]),
        description=row["description"],
        tags=json.loads(row["tags"]),
        properties=json.loads(row["properties"]),
    )


def dump(mapping: Mapping[str, Any]) -> str:
    return json.dumps(dict(mapping), sort_keys=True)
