"""Request paths of the ARM resources envsync reads and writes, relative to their parent.

A workspace holds its environment assets at `environments/{name}[/versions/{version}]` and
its datastores at `datastores/{name}` (mfe.json 2025-12-01). Registries keep the same asset
paths under `…/registries/{registry}` and have no datastores, so the asset paths are one value
(`AssetPaths`) that any parent can use, and the datastore paths are the workspace's own.
Names and versions are free strings in places (versions have no pattern): each is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


def segment(value: str) -> str:
    """One path segment: "/", spaces and the like escaped."""
    return quote(value, safe="")


@dataclass(frozen=True)
class AssetPaths:
    """The containers and versions of one asset collection (`environments`)."""

    collection: str = "environments"

    def containers(self) -> str:
        return self.collection

    def container(self, name: str) -> str:
        return f"{self.collection}/{segment(name)}"

    def versions(self, name: str) -> str:
        return f"{self.container(name)}/versions"

    def version(self, name: str, version: str) -> str:
        return f"{self.versions(name)}/{segment(version)}"


ENVIRONMENTS = AssetPaths()


def datastore(name: str) -> str:
    return f"datastores/{segment(name)}"


def list_secrets(name: str) -> str:
    return f"{datastore(name)}/listSecrets"
