"""The validation cache's SQLite file: rows of (kind, path, key, value), each with a checksum.

A checksum covers the row and the code identity of the run that wrote it, so a row another
envsync version wrote (even one racing this run) or a damaged row reads as a miss. A file that
is not a database any more is removed and made again; any other failure turns the cache off
for the run. Writers wait at most a second for the lock, then skip: the cache is optional.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path

import envsync
from envsync.content.confine import inside

FILE = "cache.sqlite3"
DISABLE_ENV = "ENVSYNC_NO_CACHE"  # set (to anything): no cache is read or written
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    kind TEXT NOT NULL, path TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    checksum TEXT NOT NULL, PRIMARY KEY (kind, path));
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# What a cached result depends on besides its inputs: envsync's code that makes it, and the
# libraries whose parsing and messages it holds.
_SOURCES = ("spec", "content", "schemas", "config.py")
_LIBRARIES = ("yaml", "jsonschema", "pathspec")


_OPENED: dict[Path, Store | None] = {}


class Store:
    def __init__(self, connection: sqlite3.Connection, namespace: str):
        self.connection, self.namespace = connection, namespace

    @classmethod
    def shared(cls, folder: Path) -> Store | None:
        """The store in `folder` for this process's code (opened once), or None without one."""
        if os.environ.get(DISABLE_ENV):
            return None
        if folder not in _OPENED:
            # A committed `.envsync` symlink out of the repository would have the cache written there.
            confined = inside(folder, folder.parent)
            _OPENED[folder] = cls.open(folder, code_identity()) if confined else None
        return _OPENED[folder]

    @classmethod
    def open(cls, folder: Path, namespace: str) -> Store | None:
        for _ in range(2):
            try:
                return cls(_connect(folder, namespace), namespace)
            except sqlite3.DatabaseError as e:
                if "not a database" not in str(e) and "malformed" not in str(e):
                    return None  # locked, read-only, out of space: no cache this run
                _remove(folder / FILE)
            except OSError:
                return None
        return None

    def read(self, kind: str) -> dict[str, tuple[str, str]]:
        """path → (key, value) of every intact row of `kind`."""
        try:
            rows = self.connection.execute(
                "SELECT path, key, value, checksum FROM entries WHERE kind = ?", (kind,)
            ).fetchall()
        except sqlite3.Error:
            return {}
        return {p: (k, v) for p, k, v, c in rows if c == self._checksum(kind, p, k, v)}

    def write(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        values = [(kind, p, k, v, self._checksum(kind, p, k, v)) for kind, p, k, v in rows]
        try:
            with self.connection:
                self.connection.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)", values)
        except sqlite3.Error:
            return  # busy past the timeout, or the disk refused: the next run tries again

    def _checksum(self, kind: str, path: str, key: str, value: str) -> str:
        # Against damage and rows of other code, not an adversary (who could write the sources
        # too): CRC-32 is a quarter of blake2b's cost over 10,000 rows a plan.
        text = "\0".join((self.namespace, kind, path, key, value)).encode()
        return f"{zlib.crc32(text):08x}"


def _connect(folder: Path, namespace: str) -> sqlite3.Connection:
    if not folder.is_dir():
        folder.mkdir(parents=True)
        (folder / ".gitignore").write_text("# envsync's local state: never committed\n*\n")
    connection = sqlite3.connect(folder / FILE, timeout=1.0, check_same_thread=False)
    try:
        connection.executescript(_SCHEMA)
        (stored,) = connection.execute("SELECT count(*) FROM meta WHERE value = ?", (namespace,)).fetchone()
        if not stored:  # another envsync wrote these: drop them rather than keep both
            with connection:
                connection.execute("DELETE FROM entries")
                connection.execute("INSERT OR REPLACE INTO meta VALUES ('namespace', ?)", (namespace,))
    except BaseException:
        connection.close()
        raise
    return connection


def _remove(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            os.unlink(f"{path}{suffix}")


def code_identity() -> str:
    """A digest of the code whose results the cache holds."""
    package = Path(envsync.__file__).parent
    digest = hashlib.sha256(f"{envsync.__version__} {sys.version_info[:2]}".encode())
    for source in _SOURCES:
        names = [source] if source.endswith(".py") else sorted(os.listdir(package / source))
        for name in names:
            path = package / name if source.endswith(".py") else package / source / name
            if name.endswith((".py", ".json")):
                digest.update(name.encode() + b"\0" + path.read_bytes())
    import importlib.util

    for library in _LIBRARIES:
        found = importlib.util.find_spec(library)
        origin = found.origin if found is not None else None
        if origin:
            st = os.stat(origin)
            digest.update(f"{library} {origin} {st.st_size} {st.st_mtime_ns}".encode())
    return digest.hexdigest()[:32]
