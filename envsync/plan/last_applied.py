"""The last-applied record envsync keeps on each environment container it manages.

Like `kubectl apply`'s last-applied annotation: after apply writes a version, it stores on the
container (one tag, `envsync.last-applied`) the version, its fingerprint and a digest of the
description and tags it set. A plan that finds a record matching git and the container's
`latestVersion` can call the environment unchanged without reading any version: one ARM read
per page of containers instead of one per environment.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from envsync.spec.load import EnvironmentSpec
from envsync.workspace import Container

TAG = "envsync.last-applied"
RECORD_VERSION = 1
ARCHIVED = "archived"  # the fingerprint of a record whose version apply --prune archived


@dataclass(frozen=True)
class Record:
    version: str
    fingerprint: str
    mutable: str  # mutable_digest() of what apply set
    # Versions made outside envsync that are envsync's since its first apply here (an import):
    # `plan.ownership`. Not part of what makes a record match git (the fast path's question).
    adopted: tuple[str, ...] = field(default=(), compare=False)

    def encode(self) -> str:
        doc: dict[str, object] = {
            "v": RECORD_VERSION,
            "version": self.version,
            "fingerprint": self.fingerprint,
            "mutable": self.mutable,
        }
        if self.adopted:  # absent in records of environments envsync made: the usual case
            doc["adopted"] = list(self.adopted)
        return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def mutable_digest(description: str | None, tags: Mapping[str, str]) -> str:
    doc = {"description": description or "", "tags": dict(sorted(tags.items()))}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]


def record_for(
    spec: EnvironmentSpec, version: str, ignore_tags: frozenset[str], adopted: tuple[str, ...] = ()
) -> Record:
    digest = mutable_digest(spec.description, _git_tags(spec, ignore_tags))
    return Record(version, spec.fingerprint, digest, adopted)


def archived(version: str, adopted: tuple[str, ...] = ()) -> Record:
    """What `apply --prune` leaves after archiving the recorded version: a record that names
    it but matches no spec, so plans read that environment's versions again (what the record
    adopted stays adopted)."""
    return Record(version, ARCHIVED, "", adopted)


def read(container: Container) -> Record | None:
    """The container's record; None when absent or unreadable (a plan then reads versions)."""
    raw = container.tags.get(TAG)
    if not raw:
        return None
    try:
        doc = json.loads(raw)
        if doc.get("v") != RECORD_VERSION:
            return None
        return Record(str(doc["version"]), str(doc["fingerprint"]), str(doc["mutable"]), _adopted(doc))
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):  # a tag edited by hand
        return None


def unchanged(spec: EnvironmentSpec, container: Container | None, ignore_tags: frozenset[str]) -> bool:
    """True only when it is safe to plan a no-op for `spec` without reading its versions."""
    if container is None or container.archived or container.curated:
        return False
    record = read(container)
    if record is None or record.version != container.latest_version:
        return False
    if spec.version is not None and spec.version != record.version:
        return False
    return record == record_for(spec, record.version, ignore_tags)


def _adopted(doc: dict[str, object]) -> tuple[str, ...]:
    listed = doc.get("adopted", [])
    if not isinstance(listed, list) or not all(isinstance(v, str) for v in listed):
        return ()  # unreadable: as if absent (ownership then reads it off the versions)
    return tuple(listed)


def _git_tags(spec: EnvironmentSpec, ignore_tags: frozenset[str]) -> dict[str, str]:
    return {k: v for k, v in spec.tags.items() if k not in ignore_tags}
