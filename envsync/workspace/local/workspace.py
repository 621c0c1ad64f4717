"""The embedded workspace: one SQLite file (default `.envsync/workspace.db`) with Azure ML's rules
for environments (azureml-api.md §2, §3 and §7), so envsync plans and applies with no Azure
account, and the emulator has a store to serve over HTTP. The file is `db.py` (opened by
`schema.py`), blobs `blobstore.py`, endpoints and deployments `endpoints.py`. Rules where Azure is
unclear are each chosen in one place here and say so: `next_version`, `_archive_container` and
`_restore_refused` (archives), `_check_name` (reserved prefixes). Safe to share: one connection
behind a lock within a process; across processes WAL mode, a busy timeout, and `BEGIN IMMEDIATE`
around every read-modify-write: a check and the write it decides are one step (two racing creates
of one version leave one row, or one 409)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from envsync.errors import ConflictError, NotFoundError, WorkspaceError
from envsync.workspace import Container, Deployment, ListView, RemoteVersion, VersionBody, names
from envsync.workspace.local import blobstore, schema
from envsync.workspace.local import db as localdb
from envsync.workspace.local.db import errors, transaction
from envsync.workspace.local.endpoints import EndpointStore

DEFAULT_PATH = Path(".envsync/workspace.db")
RESERVED_PREFIXES = ("AzureML", "Microsoft")


def next_version(versions: Iterable[str]) -> str:
    """Azure's container `nextVersion`: the highest integer version + 1, else "1"."""
    # [infer] mfe.json calls it the "next auto incremental version". Only plain integers take
    # part ("01" counts as 1): "1.5", "v2" or "2024-01" are legal versions but are never
    # incremented, so a container holding only such versions still offers "1". Archived
    # versions count, since their name/version stays taken.
    return str(max((int(v) for v in versions if v.isascii() and v.isdigit()), default=0) + 1)


class LocalWorkspace:
    """`envsync.workspace.Workspace` over a SQLite file, plus the blob API the emulator serves."""

    def __init__(self, path: Path | str = DEFAULT_PATH, *, curated: bool = True) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db = schema.connect(self.path, curated=curated)
        self.endpoints = EndpointStore(self._read, self._write)

    @property
    def target(self) -> str:
        return f"local:{self.path}"

    def __repr__(self) -> str:
        return f"LocalWorkspace({str(self.path)!r})"

    def spare_writes(self) -> float | None:
        return None  # no rate limit

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- containers -----------------------------------------------------------------------------

    def list_environments(self, view: ListView = ListView.ACTIVE) -> Iterator[Container]:
        with self._read() as db:
            return iter(localdb.select_containers(db, view, next_version))

    def get_environment(self, name: str) -> Container | None:
        with self._read() as db:
            return localdb.select_container(db, name, next_version)

    def update_environment(self, name: str, *, description: str | None, tags: Mapping[str, str]) -> Container:
        """Replace the container's description and tags; versions and archive state stay."""
        with self._write() as db:
            _writable_container(db, name)
            db.execute(
                "UPDATE containers SET description = ?, tags = ? WHERE name = ?",
                (description, localdb.dump(tags), name),
            )
            found = localdb.select_container(db, name, next_version)
        assert found is not None
        return found

    def tag_environment(
        self,
        name: str,
        key: str,
        value: str,
        *,
        when_latest: str | None = None,
        current: Container | None = None,
    ) -> Container:
        # `current` saves nothing here: the read and the write are one local transaction.
        with self._write() as db:
            _writable_container(db, name)
            current = localdb.select_container(db, name, next_version)
            assert current is not None
            if current.tags.get(key) == value or when_latest not in (None, current.latest_version):
                return current
            tags = localdb.dump({**current.tags, key: value})
            db.execute("UPDATE containers SET tags = ? WHERE name = ?", (tags, name))
            found = localdb.select_container(db, name, next_version)
        assert found is not None
        return found

    # -- versions -------------------------------------------------------------------------------

    def list_versions(self, name: str, view: ListView = ListView.ACTIVE) -> list[RemoteVersion]:
        with self._read() as db:
            return localdb.select_versions(db, name, view)

    def get_version(self, name: str, version: str) -> RemoteVersion | None:
        with self._read() as db:
            return localdb.select_version(db, name, version)

    def create_version(self, name: str, version: str, body: VersionBody) -> RemoteVersion:
        """PUT semantics: a new version (and container), or an identical re-send, or a 409."""
        with self._write() as db:
            container = localdb.container_row(db, name)
            if container is not None and container["curated"]:
                raise _read_only(name)
            _check_name(name, version, new=container is None)
            existing = localdb.select_version(db, name, version)
            if existing is None:
                localdb.insert_version(db, name, version, body, localdb.tick(db))
            else:
                assert container is not None  # a version implies its container
                _resend(db, existing, body, container_archived=bool(container["archived"]))
            stored = localdb.select_version(db, name, version)
        assert stored is not None
        return stored

    def update_version(
        self, name: str, version: str, *, description: str | None, tags: Mapping[str, str]
    ) -> RemoteVersion:
        with self._write() as db:
            _writable_version(db, name, version)
            db.execute(
                "UPDATE versions SET description = ?, tags = ? WHERE name = ? AND version = ?",
                (description, localdb.dump(tags), name, version),
            )
            stored = localdb.select_version(db, name, version)
        assert stored is not None
        return stored

    def set_archived(self, name: str, version: str | None, archived: bool) -> None:
        with self._write() as db:
            if version is None:
                _archive_container(db, name, archived)
                return
            current = _writable_version(db, name, version)
            if not archived and _writable_container(db, name)["archived"]:
                raise _restore_refused(name, version)
            if current.archived != archived:
                db.execute(
                    "UPDATE versions SET archived = ? WHERE name = ? AND version = ?",
                    (archived, name, version),
                )

    def list_deployments(self) -> Iterator[Deployment]:  # online and batch, in `endpoints`
        return self.endpoints.all_deployments()

    # -- build contexts and blobs ---------------------------------------------------------------

    def upload_context(self, directory: Path, digest: str, *, name: str = "", version: str = "") -> str:
        """Store the context content-addressed; a digest already completed is not rewritten."""
        with errors(Path(directory)):
            upload = blobstore.plan_upload(Path(directory), digest)
        with self._write() as db:
            if not blobstore.is_uploaded(db, upload.indicator):
                blobstore.store_upload(db, upload)
        return upload.context_uri

    def download_context(self, context_uri: str, dest: Path, *, name: str = "", version: str = "") -> None:
        with self._read() as db:
            files = blobstore.download(db, context_uri, Path(dest))
        with errors(Path(dest)):
            for target, data in files:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)

    def put_blob(self, container: str, path: str, data: bytes, metadata: Mapping[str, str]) -> None:
        with self._write() as db:
            blobstore.put_blob(db, container, path, data, metadata)

    def get_blob(self, container: str, path: str) -> tuple[bytes, dict[str, str]] | None:
        with self._read() as db:
            return blobstore.get_blob(db, container, path)

    def set_blob_metadata(self, container: str, path: str, metadata: Mapping[str, str]) -> None:
        with self._write() as db:
            blobstore.set_blob_metadata(db, container, path, metadata)

    def list_blobs(self, container: str, prefix: str = "") -> list[str]:
        with self._read() as db:
            return blobstore.list_blobs(db, container, prefix)

    # -- transactions ---------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several SELECTs; it never blocks writers (WAL)."""
        with self._lock, errors(self.path), transaction(self._db, "BEGIN"):
            yield self._db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """The write lock up front, so what the transaction reads still holds when it writes."""
        with self._lock, errors(self.path), transaction(self._db, "BEGIN IMMEDIATE"):
            yield self._db


# -- rules ------------------------------------------------------------------------------------


def _check_name(name: str, version: str, *, new: bool) -> None:
    """Names are checked when a PUT would create them (curated names hold dots: GET-only)."""
    if new and not names.valid_name(name):
        raise _bad_request(f"Environment name {name!r} is invalid: use {names.NAME_RULE}")
    # Case-sensitive, as the v1 service words it ("can not start with the prefix AzureML") and
    # as envsync's spec checks do; whether the service also refuses "azureml-x" is unknown.
    if new and name.startswith(RESERVED_PREFIXES):
        raise _bad_request(
            f"Environment name '{name}' is invalid: the prefixes AzureML and Microsoft are "
            "reserved for curated environments"
        )
    problem = names.version_problem(version)
    if problem is not None:
        raise _bad_request(f"Environment {name}: {problem}")


def _resend(
    db: sqlite3.Connection, existing: RemoteVersion, body: VersionBody, *, container_archived: bool
) -> None:
    """A PUT to an existing version: the same immutable content (after defaults) or 409. It
    replaces description, tags and isArchived, and keeps `properties` ([infer] §7.1)."""
    if existing.body.content() != body.content():
        message = (
            f"Environment {existing.name} with version {existing.version} is already registered "
            "and cannot be changed."
        )
        raise ConflictError(message, status=409, code="UserError")
    if existing.archived and not body.archived and container_archived:
        raise _restore_refused(existing.name, existing.version)
    db.execute(
        "UPDATE versions SET description = ?, tags = ?, archived = ? WHERE name = ? AND version = ?",
        (body.description, localdb.dump(body.tags), body.archived, existing.name, existing.version),
    )


def _archive_container(db: sqlite3.Connection, name: str, archived: bool) -> None:
    """Archiving a container archives every version; restoring it restores every version
    (az ml's archive/restore help). Re-setting the flag it already has changes nothing, so a
    container PUT that re-sends `isArchived: false` leaves versions archived one by one alone."""
    if bool(_writable_container(db, name)["archived"]) == archived:
        return
    db.execute("UPDATE containers SET archived = ? WHERE name = ?", (archived, name))
    db.execute("UPDATE versions SET archived = ? WHERE name = ?", (archived, name))


def _restore_refused(name: str, version: str) -> WorkspaceError:
    # az ml: "If the entire environment container is archived, you cannot restore individual
    # versions of the environment - you will need to restore the environment container."
    return _bad_request(
        f"Environment {name} is archived: restore the environment before restoring its version {version}."
    )


def _writable_container(db: sqlite3.Connection, name: str) -> sqlite3.Row:
    row = localdb.container_row(db, name)
    if row is None:
        raise NotFoundError(f"Environment {name} not found.", status=404, code="UserError")
    if row["curated"]:
        raise _read_only(name)
    return row


def _writable_version(db: sqlite3.Connection, name: str, version: str) -> RemoteVersion:
    found = localdb.select_version(db, name, version)
    if found is None:
        raise NotFoundError(
            f"Environment {name} with version {version} not found.", status=404, code="UserError"
        )
    if found.curated:
        raise _read_only(name)
    return found


def _read_only(name: str) -> WorkspaceError:
    return WorkspaceError(
        f"Environment {name}: curated environments are read-only", status=403, code="UserError"
    )


def _bad_request(message: str) -> WorkspaceError:
    return WorkspaceError(message, status=400, code="UserError")
