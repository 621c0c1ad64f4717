"""An Azure ML registry over ARM: the workspace client, with writes that are long-running
operations and build contexts that go through the registry's own storage.

Paths and bodies are a workspace's under `…/registries/{registry}` (mfe.json 2025-12-01,
`RegistryEnvironmentContainers_*` and `RegistryEnvironmentVersions_*`); reads are plain. A PUT
answers 200 when done, or 201 with `Azure-AsyncOperation` (final state via the original URI),
which `RegistrySession.put` polls to the end through `envsync.http.lro`.

Uploads follow the one contract the service has for a registry environment's build context,
the one azure-ai-ml 1.35.2 uses (`_utils/_registry_utils.py`, `get_sas_uri_for_registry_asset`):
the ARM spec's `startPendingUpload` exists only for codes, models and data, not environments.
So envsync asks the registry's data plane (found through registry discovery) for a temporary
data reference, `PUT …/registries/{r}/tempdatarefs/{name}/versions/{version}`
(api-version 2021-10-01-dataplanepreview), which lends a container SAS for that asset version
(409 once the version exists). The files go in that container under envsync's usual
content-addressed folder, `LocalUpload/<digest>/<dirname>/`, so the contextUri names its digest
as on a workspace (azure-ai-ml writes them at the container's root). Downloads borrow a read SAS
with `RegistryDataReferences_GetBlobReferenceSAS` (`POST …/datareferences/{name}/versions/{v}`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import requests

from envsync.errors import WorkspaceError
from envsync.http import lro, origins
from envsync.http.session import TokenCredential, check_endpoint, is_loopback
from envsync.workspace.azure import fields
from envsync.workspace.azure.arm import ArmSession
from envsync.workspace.azure.fields import answered
from envsync.workspace.azure.storage import BlobStore, lent_store
from envsync.workspace.azure.workspace import AzureMLWorkspace
from envsync.workspace.deployments import Deployment

if TYPE_CHECKING:
    from envsync.config import Target

DATAPLANE_API_VERSION = "2021-10-01-dataplanepreview"  # azure-ai-ml's REGISTRY_DATAPLANE_API_VERSION
MFE_PATH_PREFIX = "mferp/managementfrontend"
# azure-ai-ml's registry discovery endpoints by ARM endpoint (`_azure_environments.py`).
DISCOVERY = {
    "https://management.azure.com": "https://eastus.api.azureml.ms",
    "https://management.chinacloudapi.cn": "https://chinaeast2.api.ml.azure.cn",
    "https://management.usgovcloudapi.net": "https://usgovarizona.api.ml.azure.us",
}


class RegistrySession(ArmSession):
    """An ARM session whose PUTs wait for the operation they start."""

    def __init__(
        self, base_url: str, credential: TokenCredential, *, lro_options: lro.LroOptions, **kwargs: Any
    ):
        super().__init__(base_url, credential, **kwargs)
        self.lro_options = lro_options

    def put(self, path: str, body: Any) -> dict[str, Any]:
        response = self.send("PUT", path, json=body)
        assert response is not None
        url = f"{self.base_url}/{path}?api-version={quote(self.api_version, safe='')}"
        operation = lro.started("PUT", url, response)
        if operation is not None:
            for followed in filter(None, (operation.monitor, operation.final)):
                self.check_followed(f"PUT {path}: the operation URL", followed)
            response = lro.wait(f"PUT {path}", operation, response, self.fetch, self.lro_options)
        return self.json(response)

    def check_followed(self, what: str, url: str) -> str:
        """`url` if this session's token may go there (`envsync.http.origins`)."""
        return origins.check_followed(what, url, self.base_url, registry=True)

    def fetch(self, url: str) -> requests.Response:
        """An authenticated, paced GET of `url` where the token may go, whatever its status
        (the poller reads 202s, 429s and 5xx itself)."""
        self.check_followed("the operation URL", url)
        headers = {"Authorization": f"Bearer {self._bearer()}", "Accept": "application/json"}
        return self._paced(f"GET {self._label(url)}", "GET", url, headers=headers)


class AzureMLRegistry(AzureMLWorkspace):
    """`envsync.workspace.Workspace` for an Azure ML registry. Thread-safe."""

    def __init__(
        self,
        base_url: str,
        credential: TokenCredential,
        *,
        lro_options: lro.LroOptions = lro.LroOptions(),
        discovery: str | None = None,
        **kwargs: Any,
    ):
        self.lro_options = lro_options
        super().__init__(base_url, credential, **kwargs)
        self.registry = self.session.base_url.rsplit("/", 1)[1]
        self._discovery = discovery
        self._dataplane: str | None = None

    @classmethod
    def from_target(cls, target: Target, **kwargs: Any) -> AzureMLRegistry:
        """The registry a configured target names (endpoint and credential as for a workspace);
        its `operation_timeout` bounds the wait for each operation."""
        if target.operation_timeout is not None and "lro_options" not in kwargs:
            kwargs["lro_options"] = replace(lro.LroOptions(), timeout=float(target.operation_timeout))
        found = super().from_target(target, **kwargs)
        assert isinstance(found, AzureMLRegistry)
        return found

    def _session(self, base_url: str, credential: TokenCredential, **kwargs: Any) -> ArmSession:
        return RegistrySession(base_url, credential, lro_options=self.lro_options, **kwargs)

    def __repr__(self) -> str:
        return f"AzureMLRegistry({self.session.base_url!r})"

    def list_deployments(self) -> Iterator[Deployment]:
        return iter(())  # deployments live in workspaces; a registry lists none

    # -- build contexts -------------------------------------------------------------------------

    def upload_context(self, directory: Path, digest: str, *, name: str = "", version: str = "") -> str:
        from envsync.workspace.azure.upload import upload_context

        _need_asset("upload", name, version)
        store = self._store_for(self._temporary_reference(name, version))
        return upload_context(store, Path(directory), digest, concurrency=self.session.options.concurrency)

    def download_context(self, context_uri: str, dest: Path, *, name: str = "", version: str = "") -> None:
        from envsync.workspace.azure.download import download_context

        _need_asset("download", name, version)
        body = {"assetId": self._asset_id(name, version), "blobUri": context_uri}
        path = f"datareferences/{quote(name, safe='')}/versions/{quote(version, safe='')}"
        reference = self.session.post(path, body)
        store = self._store_for(_sas_uri(reference, f"POST {path}"))
        download_context(store, context_uri, Path(dest), concurrency=self.session.options.concurrency)

    # -- the data plane -------------------------------------------------------------------------

    def _temporary_reference(self, name: str, version: str) -> str:
        """A container SAS lent for uploading `name:version`'s files (409 once it exists)."""
        arm_path = urlsplit(self.session.base_url).path
        url = (
            f"{self._dataplane_url()}{arm_path}/tempdatarefs/{quote(name, safe='')}/versions/"
            f"{quote(version, safe='')}?api-version={DATAPLANE_API_VERSION}"
        )
        body = {
            "assetId": self._asset_id(name, version),
            "temporaryDataReferenceType": "TemporaryBlobReference",
        }
        response = self.session.send("PUT", url, json=body, absolute=True)
        assert response is not None
        return _sas_uri(self.session.json(response), f"PUT {urlsplit(url).path}")

    def dataplane_url(self) -> str:
        """The registry's data plane, found through discovery (doctor reports it)."""
        return self._dataplane_url()

    def _dataplane_url(self) -> str:
        """`primaryRegionResourceProviderUri` + mferp/managementfrontend, as azure-ai-ml builds
        it from the registry's discovery record (read once per run)."""
        if self._dataplane is None:
            name = quote(self.registry, safe="")
            url = f"{self._discovery_url()}/registrymanagement/v1.0/registries/{name}/discovery"
            response = self.session.send("GET", url, absolute=True)
            assert response is not None
            with answered(f"GET {urlsplit(url).path}"):
                key = "primaryRegionResourceProviderUri"
                base = fields.text(self.session.json(response), key, key) or ""
            if not base:
                raise WorkspaceError(f"registry {self.registry}: discovery named no resource provider URI")
            where = f"registry {self.registry}: its data plane ({MFE_PATH_PREFIX})"
            url = base.rstrip("/") + "/" + MFE_PATH_PREFIX
            origins.check_followed(where, url, self.session.base_url, registry=True)
            self._dataplane = check_endpoint(url)
        return self._dataplane

    def _discovery_url(self) -> str:
        if self._discovery:
            return check_endpoint(self._discovery)
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.session.base_url))
        if is_loopback(origin):
            return origin  # the emulator serves its own discovery
        found = os.environ.get("ENVSYNC_REGISTRY_DISCOVERY") or DISCOVERY.get(origin.lower())
        if not found:
            raise WorkspaceError(
                f"registry {self.registry}: no registry discovery endpoint known for {origin}; "
                "set ENVSYNC_REGISTRY_DISCOVERY"
            )
        return check_endpoint(found)

    def _asset_id(self, name: str, version: str) -> str:
        return f"azureml://registries/{self.registry}/environments/{name}/versions/{version}"

    def _store_for(self, sas_uri: str) -> BlobStore:
        """Where a lent container SAS points; requests to the emulator's storage go to its
        `/_blob/{account}` path, as for a workspace datastore (`upload.py`)."""
        parts = urlsplit(sas_uri)
        host = parts.hostname or ""
        account, _, suffix = host.partition(".blob.")
        container = parts.path.strip("/").split("/", 1)[0]
        if not (account and suffix and container and parts.query):
            raise WorkspaceError(
                f"registry {self.registry}: not a container SAS URL: {parts.scheme}://{host}{parts.path}"
            )
        if is_loopback(self.session.base_url):
            arm = urlsplit(self.session.base_url)
            root = f"{arm.scheme}://{arm.netloc}/_blob/{account}"
        else:
            root = f"https://{host}"
            check_endpoint(root)
        return lent_store(root, account, container, suffix, parts.query, self.session.options)


def _need_asset(what: str, name: str, version: str) -> None:
    if not (name and version):
        raise WorkspaceError(f"a registry can {what} a build context only for a named environment version")


def _sas_uri(doc: dict[str, Any], op: str) -> str:
    """The container SAS a data reference lends (`blobReferenceForConsumption.credential`)."""
    with answered(op):
        at = "blobReferenceForConsumption"
        credential = fields.obj(fields.obj(doc, at, at), "credential", f"{at}.credential")
        sas = fields.text(credential, "sasUri", f"{at}.credential.sasUri")
        kind = fields.text(credential, "credentialType", f"{at}.credential.credentialType")
    if not sas:
        raise WorkspaceError(f"{op}: the registry lent no SAS (credential type {kind!r}); envsync needs one")
    return sas
