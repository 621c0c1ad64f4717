"""The validation cache: what loading, validating and fingerprinting each environment file came
to (and each build context's digests), kept in `.envsync/cache.sqlite3` and keyed by content.

A file's key names its bytes: its git blob id when git says the working tree holds exactly the
blob, else a hash of the bytes read now. An entry also records the key of every input the
result depends on (its conda file, its build context: the folder's tree key when git says it is
clean, and never cached otherwise), so a result is reused only when all of them still match.
Failures are results too: a broken file stays broken, from the cache, and still stops a plan.

The cache can only make a run faster, never different: entries carry a checksum and are keyed
by the code that made them (envsync's own sources and the libraries whose messages they hold),
a store that cannot be opened or read is dropped and rebuilt, and concurrent runs share the
SQLite file through its own locking (a writer that cannot get the lock soon just skips writing).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from envsync.spec.loaded import Loaded, from_doc, relative, to_doc
from envsync.spec.store import Store

if TYPE_CHECKING:
    from envsync.content.context import ContextDigests

CACHE_DIR = ".envsync"


class ContentKeys(Protocol):
    """Names a file's or a folder's content without necessarily reading it."""

    @property
    def namespace(self) -> str:
        """What else every key depends on (git attributes, say)."""

    def file(self, path: str) -> str | None:
        """A key for the bytes of the file at the absolute `path` (None: unreadable)."""

    def folder(self, path: str) -> str | None:
        """A key for everything under the folder `path`, or None when it cannot tell cheaply."""


@dataclass(frozen=True)
class HashedKeys:
    """Keys without git: every file is read and hashed (git's blob hash), folders are not named."""

    @property
    def namespace(self) -> str:
        return ""

    def file(self, path: str) -> str | None:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return None
        return "h:" + hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()

    def folder(self, path: str) -> str | None:
        return None


class SpecCache:
    """Lookups and results for one run; `flush` writes what this run learned."""

    def __init__(self, root: Path, keys: ContentKeys, store: Store | None, namespace: str = ""):
        self.root, self.keys, self.store = str(root), keys, store
        # Keys made under other git attributes, or results under another policy, never match.
        self._space = f"{keys.namespace}:{namespace}:"
        self._entries = store.read("spec") if store else {}
        self._contexts = store.read("context") if store else {}
        self._new: list[tuple[str, str, str, str]] = []
        self.hits = self.misses = 0

    def lookup(self, path: Path) -> Loaded | None:
        """The cached result for the file at `path`, if everything it depends on is unchanged."""
        rel = relative(path, self.root)
        entry = self._entries.get(rel)
        if entry is None or entry[0] != self._space + str(self.keys.file(str(path))):
            self.misses += 1
            return None
        try:
            deps, doc = json.loads(entry[1])
            fresh = all(self._key(_joined(self.root, dep)) == key for dep, key in deps.items())
            loaded = from_doc(doc, self.root, path) if fresh else None
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            loaded = None
        self.hits += loaded is not None
        self.misses += loaded is None
        return loaded

    def remember(self, path: Path, loaded: Loaded) -> None:
        key = self.keys.file(str(path))
        deps = {relative(p, self.root): self._key(str(p)) for p in loaded.inputs}
        doc = to_doc(loaded, self.root)
        if key is None or doc is None or None in deps.values():
            return  # an input git cannot name (a build context with uncommitted files): not kept
        value = json.dumps([deps, doc], separators=(",", ":"))
        self._new.append(("spec", relative(path, self.root), self._space + key, value))

    def digests(self, folder: Path, compute: Callable[[Path], ContextDigests]) -> ContextDigests:
        """A build context's digests: from the cache when git names the folder's content."""
        from envsync.content.context import ContextDigests

        key = self.keys.folder(str(folder))
        if key is not None and key in self._contexts:
            try:
                content, obj, covers, files = json.loads(self._contexts[key][1])
                listing = tuple((str(name), int(size)) for name, size in files)
                return ContextDigests(str(content), str(obj), bool(covers), listing)
            except (ValueError, TypeError):
                pass
        found = compute(folder)
        if key is not None:
            value = json.dumps([found.content, found.object, found.object_covers_upload, found.files])
            self._new.append(("context", key, key, value))
            self._contexts[key] = (key, value)
        return found

    def flush(self) -> None:
        if self.store is not None and self._new:
            self.store.write(self._new)
        self._new = []

    def _key(self, path: str) -> str | None:
        """A key for an input: a file's content, a folder's tree key, or that it is missing."""
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            return "missing"
        except OSError:
            return None
        if stat.S_ISDIR(mode):
            found = self.keys.folder(path)
            return None if found is None else "d:" + found
        if stat.S_ISREG(mode):
            found = self.keys.file(path)
            return None if found is None else "f:" + found
        return None


def _joined(root: str, rel: str) -> str:
    return os.path.normpath(os.path.join(root, rel)) if rel.startswith("..") else f"{root}/{rel}"


def open_cache(
    root: Path, keys: ContentKeys, policies: Mapping[str, Any] | None = None, *, enabled: bool = True
) -> SpecCache:
    """The cache for the repository at `root`, its results made under `policies` (envsync.yaml's:
    every result carries their verdicts); one that stores nothing when not `enabled` (outside
    a repository nothing is written), when `.envsync/` cannot be used or ENVSYNC_NO_CACHE is set."""
    namespace = hashlib.sha256(stable_repr(policies).encode()).hexdigest()[:16] if policies else ""
    return SpecCache(root, keys, Store.shared(root / CACHE_DIR) if enabled else None, namespace)


def stable_repr(value: Any) -> str:
    """A text that names `value` (dataclasses, mappings, sets, enums) the same in every process:
    set order follows string hashing, which changes from one run to the next."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        inner = ", ".join(
            f"{f.name}={stable_repr(getattr(value, f.name))}" for f in dataclasses.fields(value)
        )
        return f"{type(value).__name__}({inner})"
    if isinstance(value, Mapping):
        return "{" + ", ".join(sorted(f"{stable_repr(k)}: {stable_repr(v)}" for k, v in value.items())) + "}"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(stable_repr(v) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(stable_repr(v) for v in value) + "]"
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    return repr(value)


def known_valid(root: Path, name: str, text: bytes) -> bool:
    """Whether `text` (the content of `name`, envsync.yaml say) passed validation before."""
    store = Store.shared(root / CACHE_DIR)
    return store is not None and store.read("valid").get(name, ("",))[0] == _digest(text)


def remember_valid(root: Path, name: str, text: bytes) -> None:
    store = Store.shared(root / CACHE_DIR)
    if store is not None:
        store.write([("valid", name, _digest(text), "")])


def _digest(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()
