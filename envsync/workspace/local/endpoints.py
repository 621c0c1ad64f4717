"""The local workspace's online and batch endpoints and their deployments: two tables beside
the environments, holding each resource's JSON as it was PUT (the emulator serves them back
over ARM; `envsync` itself only reads which environment each deployment runs).

The tables are added to a file on its first endpoint write (`CREATE TABLE IF NOT EXISTS`), so
an existing workspace file keeps its schema version and an older envsync still opens it; a file
without them simply has no deployments.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from envsync.errors import NotFoundError
from envsync.workspace.deployments import Deployment, EndpointKind
from envsync.workspace.local.db import tick

Transaction = Callable[[], AbstractContextManager[sqlite3.Connection]]

SCHEMA = """
CREATE TABLE IF NOT EXISTS endpoints (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    resource TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (kind, name)
);
CREATE TABLE IF NOT EXISTS deployments (
    kind TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    name TEXT NOT NULL,
    resource TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (kind, endpoint, name),
    FOREIGN KEY (kind, endpoint) REFERENCES endpoints (kind, name)
);
"""


class EndpointStore:
    """Endpoints and deployments in a local workspace's SQLite file, in its transactions."""

    def __init__(self, read: Transaction, write: Transaction):
        """`read` and `write` open the workspace's own transactions (a snapshot, and one that
        holds the write lock from its start)."""
        self._read, self._writing = read, write

    def put_endpoint(self, kind: EndpointKind, name: str, resource: dict[str, Any]) -> bool:
        """Store an endpoint's resource (replacing it); whether it is new."""
        with self._write() as db:
            row = _row(db, "SELECT created FROM endpoints WHERE kind = ? AND name = ?", kind.value, name)
            created = row["created"] if row else tick(db)
            db.execute(
                "INSERT OR REPLACE INTO endpoints (kind, name, resource, created) VALUES (?, ?, ?, ?)",
                (kind.value, name, json.dumps(resource, sort_keys=True), created),
            )
        return row is None

    def put_deployment(self, kind: EndpointKind, endpoint: str, name: str, resource: dict[str, Any]) -> bool:
        """Store a deployment of an existing endpoint (replacing it); whether it is new."""
        with self._write() as db:
            if _row(db, "SELECT 1 FROM endpoints WHERE kind = ? AND name = ?", kind.value, endpoint) is None:
                raise NotFoundError(f"{kind.value.capitalize()} endpoint {endpoint} not found.", status=404)
            where = "kind = ? AND endpoint = ? AND name = ?"
            row = _row(db, f"SELECT created FROM deployments WHERE {where}", kind.value, endpoint, name)  # noqa: S608
            db.execute(
                "INSERT OR REPLACE INTO deployments (kind, endpoint, name, resource, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    kind.value,
                    endpoint,
                    name,
                    json.dumps(resource, sort_keys=True),
                    row["created"] if row else tick(db),
                ),
            )
        return row is None

    def endpoint(self, kind: EndpointKind, name: str) -> dict[str, Any] | None:
        rows = self._select(
            "SELECT name, resource FROM endpoints WHERE kind = ? AND name = ?", kind.value, name
        )
        return rows[0] if rows else None

    def endpoints(self, kind: EndpointKind) -> list[dict[str, Any]]:
        """Each endpoint's resource (with its `name`), oldest first."""
        return self._select(
            "SELECT name, resource FROM endpoints WHERE kind = ? ORDER BY created", kind.value
        )

    def deployment(self, kind: EndpointKind, endpoint: str, name: str) -> dict[str, Any] | None:
        query = "SELECT name, resource FROM deployments WHERE kind = ? AND endpoint = ? AND name = ?"
        rows = self._select(query, kind.value, endpoint, name)
        return rows[0] if rows else None

    def deployments_of(self, kind: EndpointKind, endpoint: str) -> list[dict[str, Any]]:
        query = "SELECT name, resource FROM deployments WHERE kind = ? AND endpoint = ? ORDER BY created"
        return self._select(query, kind.value, endpoint)

    def all_deployments(self) -> Iterator[Deployment]:
        """Every deployment, by endpoint and name, with the environment id it runs."""
        query = "SELECT kind, endpoint, name, resource FROM deployments ORDER BY endpoint, kind, name"
        with self._read() as db:
            rows = db.execute(query).fetchall() if _has_tables(db) else []
        for row in rows:
            props = json.loads(row["resource"]).get("properties") or {}
            found = props.get("environmentId")
            environment_id = found if isinstance(found, str) and found else None
            yield Deployment(EndpointKind(row["kind"]), row["endpoint"], row["name"], environment_id)

    def _select(self, query: str, *args: str) -> list[dict[str, Any]]:
        with self._read() as db:
            rows = db.execute(query, args).fetchall() if _has_tables(db) else []
        return [{**json.loads(row["resource"]), "name": row["name"]} for row in rows]

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._writing() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            yield db


def _has_tables(db: sqlite3.Connection) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deployments'"
    return db.execute(query).fetchone() is not None


def _row(db: sqlite3.Connection, query: str, *args: str) -> sqlite3.Row | None:
    found: sqlite3.Row | None = db.execute(query, args).fetchone()
    return found
