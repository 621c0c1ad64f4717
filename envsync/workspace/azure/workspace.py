"""The Azure ML workspace over its ARM REST API (environment containers and versions).

Paths, query parameters and bodies follow Azure/azure-rest-api-specs:
specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/
stable/2025-12-01/mfe.json (EnvironmentContainers_*, EnvironmentVersions_*, Datastores_*).
Workspace environment PUTs are synchronous there (no long-running operation).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from envsync.errors import NotFoundError, WorkspaceError
from envsync.http.credentials import ExplainedCredential
from envsync.http.jwt import UnsignedJwtCredential
from envsync.http.redact import redact_url
from envsync.http.session import (
    AccessTokenLike,
    HttpOptions,
    StaticTokenCredential,
    TokenCredential,
    check_endpoint,
    is_loopback,
)
from envsync.workspace import Container, ListView, RemoteVersion, VersionBody
from envsync.workspace.azure import armjson
from envsync.workspace.azure.arm import ARM_SCOPE, DEFAULT_ENDPOINT, ArmSession
from envsync.workspace.azure.fields import answered
from envsync.workspace.azure.paths import ENVIRONMENTS, AssetPaths
from envsync.workspace.deployments import Deployment

if TYPE_CHECKING:
    from envsync.config import Target
    from envsync.workspace.azure.storage import BlobStore

DEFAULT_API_VERSION = "2025-12-01"
DEFAULT_DATASTORE = "workspaceblobstore"
ORDER_NEWEST_FIRST = "createdtime desc"  # the value azure-ai-ml sends (OrderString)
EMULATOR_TOKEN = "envsync-emulator"  # noqa: S105 - not a secret: the emulator accepts any token


class AzureMLWorkspace:
    """`envsync.workspace.Workspace` over HTTPS. Thread-safe: `observe` fans out over it."""

    def __init__(
        self,
        base_url: str,
        credential: TokenCredential,
        *,
        api_version: str = DEFAULT_API_VERSION,
        concurrency: int = 8,
        http: HttpOptions | None = None,
        datastore: str = DEFAULT_DATASTORE,
        scope: str = ARM_SCOPE,
        paths: AssetPaths = ENVIRONMENTS,
        storage_credential: TokenCredential | None = None,
    ):
        """`storage_credential` reaches identity-based datastores (scope storage.azure.com); by
        default the ARM credential itself, or unsigned emulator tokens on a loopback endpoint."""
        options = http or HttpOptions(concurrency=concurrency)
        self.session = self._session(
            base_url, credential, api_version=api_version, options=options, scope=scope
        )
        self.paths = paths
        self.datastore = datastore
        if storage_credential is None:
            storage_credential = UnsignedJwtCredential() if is_loopback(base_url) else credential
        self._storage_credential = storage_credential
        self._store: BlobStore | None = None
        self._store_lock = threading.Lock()

    def _session(self, base_url: str, credential: TokenCredential, **kwargs: Any) -> ArmSession:
        """The session requests go through (a registry's also waits out long-running writes)."""
        return ArmSession(base_url, credential, **kwargs)

    @classmethod
    def from_target(cls, target: Target, **kwargs: Any) -> AzureMLWorkspace:
        """The workspace a configured target names. The endpoint comes from ENVSYNC_ARM_ENDPOINT
        (the runner's word beats the repository's), else the target, else public Azure; the
        credential is ENVSYNC_ARM_TOKEN when set (for a loopback endpoint only), a placeholder
        token for a loopback endpoint (the emulator), else DefaultAzureCredential.
        Storage is reached with ENVSYNC_STORAGE_TOKEN when set, else as `__init__` says."""
        endpoint = check_endpoint(
            os.environ.get("ENVSYNC_ARM_ENDPOINT") or target.endpoint or DEFAULT_ENDPOINT
        )
        credential, scope = _credential_for(endpoint)
        storage_token = os.environ.get("ENVSYNC_STORAGE_TOKEN")
        if storage_token:
            kwargs.setdefault("storage_credential", StaticTokenCredential(storage_token))
        elif isinstance(credential, StaticTokenCredential) and not is_loopback(endpoint):
            kwargs.setdefault("storage_credential", _LazyDefaultCredential())
        return cls(
            endpoint + target.arm_id,
            credential,
            api_version=target.api_version or DEFAULT_API_VERSION,
            scope=scope,
            **kwargs,
        )

    @property
    def target(self) -> str:
        return redact_url(self.session.base_url)

    def __repr__(self) -> str:
        return f"AzureMLWorkspace({self.target!r})"

    # -- containers -----------------------------------------------------------------------------

    def list_environments(self, view: ListView = ListView.ACTIVE) -> Iterator[Container]:
        path = self.paths.containers()
        with answered(f"GET {path}"):
            for item in self.session.pages(path, {"listViewType": view.value}):
                yield armjson.container_from_json(item)

    def get_environment(self, name: str) -> Container | None:
        path = self.paths.container(name)
        found = self.session.get(path)
        with answered(f"GET {path}"):
            return None if found is None else armjson.container_from_json(found)

    def update_environment(self, name: str, *, description: str | None, tags: Mapping[str, str]) -> Container:
        """Replace a container's description and tags, keeping its other fields."""
        path = self.paths.container(name)
        current = self._require(path)
        with answered(f"GET {path}"):
            body = armjson.resend_container(current, **_mutable(description, tags))
        return self._container(path, self.session.put(path, body))

    def tag_environment(
        self,
        name: str,
        key: str,
        value: str,
        *,
        when_latest: str | None = None,
        current: Container | None = None,
    ) -> Container:
        # A container's writable fields are all modelled, so one the caller knows is PUT back
        # as it is without a GET: the one request an apply's record costs.
        path = self.paths.container(name)
        resource = armjson.container_resource_of(current) if current else self._require(path)
        with answered(f"GET {path}"):
            found = current or armjson.container_from_json(resource)
        tags = dict(found.tags)
        if tags.get(key) == value or when_latest not in (None, found.latest_version):
            return found
        body = armjson.resend_container(resource, tags={**tags, key: value})
        return self._container(path, self.session.put(path, body))

    def spare_writes(self) -> float | None:
        return self.session.spare_writes()

    def phase(self, label: str, seconds: float) -> AbstractContextManager[None]:
        """A deadline over this part of a command: a request still running then ends it."""
        return self.session.phase(label, seconds)

    # -- versions -------------------------------------------------------------------------------

    def list_versions(self, name: str, view: ListView = ListView.ACTIVE) -> list[RemoteVersion]:
        params = {"$orderBy": ORDER_NEWEST_FIRST, "listViewType": view.value}
        path = self.paths.versions(name)
        with answered(f"GET {path}"):
            return [armjson.version_from_json(name, item) for item in self.session.pages(path, params)]

    def get_version(self, name: str, version: str) -> RemoteVersion | None:
        path = self.paths.version(name, version)
        found = self.session.get(path)
        with answered(f"GET {path}"):
            return None if found is None else armjson.version_from_json(name, found)

    def create_version(self, name: str, version: str, body: VersionBody) -> RemoteVersion:
        created = self.session.put(self.paths.version(name, version), armjson.version_request(body))
        return self._parsed(name, version, created)

    def update_version(
        self, name: str, version: str, *, description: str | None, tags: Mapping[str, str]
    ) -> RemoteVersion:
        # GET then PUT the whole body back: a PUT replaces, so anything left out (isArchived,
        # properties, autoRebuild) would be reset or refused as an immutable change.
        path = self.paths.version(name, version)
        current = self._require(path)
        with answered(f"GET {path}"):
            body = armjson.resend_version(current, **_mutable(description, tags))
        return self._parsed(name, version, self.session.put(path, body))

    def set_archived(self, name: str, version: str | None, archived: bool) -> None:
        """Archive or restore as azure-ai-ml does: GET, set isArchived, PUT the whole body."""
        path = self.paths.container(name) if version is None else self.paths.version(name, version)
        current = self._require(path)
        resend = armjson.resend_container if version is None else armjson.resend_version
        with answered(f"GET {path}"):
            body = resend(current, isArchived=archived)
        self.session.put(path, body)

    # -- deployments ----------------------------------------------------------------------------

    def list_deployments(self) -> Iterator[Deployment]:
        from envsync.workspace.azure.endpoints import list_deployments

        return list_deployments(self.session, concurrency=self.session.options.concurrency)

    # -- build contexts -------------------------------------------------------------------------

    def upload_context(self, directory: Path, digest: str, *, name: str = "", version: str = "") -> str:
        from envsync.workspace.azure.upload import upload_context

        concurrency = self.session.options.concurrency
        return upload_context(self._blob_store(), Path(directory), digest, concurrency=concurrency)

    def download_context(self, context_uri: str, dest: Path, *, name: str = "", version: str = "") -> None:
        from envsync.workspace.azure.download import download_context

        concurrency = self.session.options.concurrency
        download_context(self._blob_store(), context_uri, Path(dest), concurrency=concurrency)

    def blob_store(self) -> BlobStore:
        """The default datastore's container, authorised as uploads are (doctor reads it)."""
        return self._blob_store()

    def _blob_store(self) -> BlobStore:
        from envsync.workspace.azure.storage import open_blob_store

        with self._store_lock:  # one datastore GET (+ listSecrets) per run, not per context
            if self._store is None:
                self._store = open_blob_store(self.session, self.datastore, self._storage_credential)
            return self._store

    def close(self) -> None:
        self.session.close()

    # -- helpers --------------------------------------------------------------------------------

    def _require(self, path: str) -> dict[str, Any]:
        found = self.session.get(path)
        if found is None:
            raise NotFoundError(f"GET {path}: 404 not found", status=404, code="NotFound")
        return found

    def _parsed(self, name: str, version: str, resource: dict[str, Any]) -> RemoteVersion:
        if not resource:  # tolerate an empty 200: read back what was stored
            found = self.get_version(name, version)
            if found is None:
                path = self.paths.version(name, version)
                raise NotFoundError(f"GET {path}: 404 not found after PUT", status=404)
            return found
        with answered(f"PUT {self.paths.version(name, version)}"):
            return armjson.version_from_json(name, resource)

    def _container(self, path: str, resource: dict[str, Any]) -> Container:
        with answered(f"PUT {path}"):
            return armjson.container_from_json(resource)


def _mutable(description: str | None, tags: Mapping[str, str]) -> dict[str, Any]:
    return {"description": description, "tags": dict(tags)}


def _credential_for(endpoint: str) -> tuple[TokenCredential, str]:
    token = os.environ.get("ENVSYNC_ARM_TOKEN")
    if token and not is_loopback(endpoint):
        raise WorkspaceError(
            f"ENVSYNC_ARM_TOKEN is sent only to a loopback endpoint (the emulator), not to "
            f"{urlsplit(endpoint).hostname}: unset it to sign in with DefaultAzureCredential"
        )
    if token:
        return StaticTokenCredential(token), ARM_SCOPE
    if is_loopback(endpoint):
        return StaticTokenCredential(EMULATOR_TOKEN), ARM_SCOPE
    # Sovereign clouds have their own ARM audience (e.g. management.chinacloudapi.cn).
    scope = ARM_SCOPE if endpoint == DEFAULT_ENDPOINT else f"{endpoint}/.default"
    return _LazyDefaultCredential(), scope


class _LazyDefaultCredential:
    """DefaultAzureCredential, made (and its slow import paid) on first use only (storage
    tokens are needed only for identity-based datastores), its failures explained in one line."""

    def __init__(self) -> None:
        self._credential: TokenCredential | None = None
        self._lock = threading.Lock()

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessTokenLike:
        with self._lock:
            if self._credential is None:
                from azure.identity import DefaultAzureCredential

                self._credential = ExplainedCredential(DefaultAzureCredential())
        return self._credential.get_token(*scopes, **kwargs)
