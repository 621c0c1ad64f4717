"""Opening the local workspace's SQLite file: its schema and version, WAL, busy timeout, and
the curated seed."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from envsync.errors import WorkspaceError
from envsync.workspace import VersionBody
from envsync.workspace.local import blobstore
from envsync.workspace.local.curated import CATALOG, CURATED_SEED
from envsync.workspace.local.db import dump, errors, insert_version, meta, transaction

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another process's transaction
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

# -- opening ----------------------------------------------------------------------------------


def connect(path: Path, *, curated: bool = True) -> sqlite3.Connection:
    """Open (creating folders and file) and prepare `path`; refuse what this code cannot read.
    Without `curated` the store starts empty (a registry holds only what was pushed to it)."""
    with errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are ours (BEGIN IMMEDIATE), not the module's.
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            db.row_factory = sqlite3.Row
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            _enable_wal(db)
            db.execute("PRAGMA foreign_keys = ON")
            _prepare(db, path, curated)
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


def _prepare(db: sqlite3.Connection, path: Path, curated: bool) -> None:
    if _seeded(db) or (not curated and meta(db, "schema_version") is not None):
        _check_schema(db, path)
        return  # the common case: nothing to write, so no write lock taken
    with transaction(db, "BEGIN IMMEDIATE"):
        if meta(db, "schema_version") is None:
            _create_schema(db, path)
        _check_schema(db, path)
        if curated and not _seeded(db):  # another process may have seeded it while this one waited
            _seed_curated(db)


def _seeded(db: sqlite3.Connection) -> bool:
    # At least this catalog: a newer envsync's larger one is left as it is.
    found = meta(db, "curated_seed")
    return found is not None and found.isdigit() and int(found) >= CURATED_SEED


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
