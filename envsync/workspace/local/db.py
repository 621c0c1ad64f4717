"""The local workspace's SQLite file: schema and its version, opening (WAL, busy timeout,
curated seed), transactions, and rows ⇄ values. The Azure ML rules live in `local.py`.

Every function takes an open connection; `LocalWorkspace` owns locking and transactions.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from envsync.errors import WorkspaceError
from envsync.workspace import BuildContext, Container, ListView, RemoteVersion, VersionBody
from envsync.workspace.local import blobstore
from envsync.workspace.local.curated import CATALOG, CURATED_SEED

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another process's transaction
NextVersion = Callable[[list[str]], str]  # the rule (local.next_version) stays with the others
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width, so text order is time order
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE containers (
    name TEXT PRIMARY KEY,
    description TEXT,
    tags TEXT NOT NULL DEFAULT '{}',
    properties TEXT NOT NULL DEFAULT '{}',
    archived INTEGER NOT NULL DEFAULT 0,
    curated INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL
);
CREATE TABLE versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL REFERENCES containers (name),
    version TEXT NOT NULL,
    image TEXT,
    conda_file TEXT,
    context_uri TEXT,
    dockerfile_path TEXT,
    os_type TEXT NOT NULL,
    inference_config TEXT,
    description TEXT,
    tags TEXT NOT NULL,
    properties TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    UNIQUE (name, version)
);
CREATE INDEX versions_by_created ON versions (name, created, seq);
"""
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


# -- opening ----------------------------------------------------------------------------------


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating folders and file) and prepare `path`; refuse what this code cannot read."""
    with errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are ours (BEGIN IMMEDIATE), not the module's.
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            db.row_factory = sqlite3.Row
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            _enable_wal(db)
            db.execute("PRAGMA foreign_keys = ON")
            _prepare(db, path)
        except BaseException:
            db.close()
            raise
        return db


def _enable_wal(db: sqlite3.Connection) -> None:
    """WAL: readers never block the writer, nor it them."""
    # Switching a new file to WAL needs an exclusive lock, and SQLite answers "database is
    # locked" at once, without the busy handler, while another process opens or switches it:
    # retry for as long as the busy timeout would have waited.
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _prepare(db: sqlite3.Connection, path: Path) -> None:
    if _seeded(db):
        _check_schema(db, path)
        return  # the common case: nothing to write, so no write lock taken
    with transaction(db, "BEGIN IMMEDIATE"):
        if meta(db, "schema_version") is None:
            _create_schema(db, path)
        _check_schema(db, path)
        if not _seeded(db):  # another process may have seeded it while this one waited
            _seed_curated(db)


def _seeded(db: sqlite3.Connection) -> bool:
    # At least this catalog: a newer envsync's larger one is left as it is.
    found = meta(db, "curated_seed")
    return found is not None and found.isdigit() and int(found) >= CURATED_SEED


def meta(db: sqlite3.Connection, key: str) -> str | None:
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return None
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def _create_schema(db: sqlite3.Connection, path: Path) -> None:
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'").fetchone() is not None:
        raise WorkspaceError(f"{path}: a SQLite database, but not an envsync workspace (no meta table)")
    for statement in (_SCHEMA + blobstore.SCHEMA).split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


def _check_schema(db: sqlite3.Connection, path: Path) -> None:
    found = meta(db, "schema_version")
    if found is None or not found.isdigit():
        raise WorkspaceError(f"{path}: not an envsync workspace (schema version {found!r})")
    if int(found) > SCHEMA_VERSION:
        raise WorkspaceError(
            f"{path}: workspace schema version {found} is newer than this envsync supports "
            f"({SCHEMA_VERSION}); upgrade envsync to use it"
        )


def _seed_curated(db: sqlite3.Connection) -> None:
    """Insert what is missing of the curated catalog (idempotent: OR IGNORE throughout)."""
    for env in CATALOG:
        db.execute(
            "INSERT OR IGNORE INTO containers (name, description, tags, curated, created) "
            "VALUES (?, ?, ?, 1, ?)",
            (env.name, env.description, dump(env.tags), env.versions[0][1]),
        )
        for version, created in env.versions:
            body = VersionBody(
                image=env.image_of(version),
                inference_config=env.inference_config,
                description=env.description,
                tags=env.tags,
            )
            insert_version(db, env.name, version, body, created, ignore=True)
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('curated_seed', ?)", (str(CURATED_SEED),))


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
