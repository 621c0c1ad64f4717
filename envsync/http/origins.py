"""Which hosts envsync's bearer token may go to when an answer names a URL to follow.

A long-running operation names the URL to poll (`Azure-AsyncOperation`, `Location`) and a
registry's discovery names its data plane; the token goes wherever they point, so each is
checked before the first request, not retried as "no answer" once refused. The rule:

- the origin (scheme, host, port) of the endpoint envsync was configured with, always;
- for a registry, also Azure ML's own regional hosts, where its data plane and operation
  URLs live: `*.api.azureml.ms` (public Azure), `*.api.ml.azure.cn` (Azure China) and
  `*.api.ml.azure.us` (Azure US Government), over https only (the registry discovery hosts
  azure-ai-ml knows, `_azure_environments.py`; an operation URL seen on another host than the
  PUT in azure-ai-ml's recorded tests, docs/real-service.md);
- loopback origins listed in ENVSYNC_TRUSTED_ORIGINS (the runner's environment, never the
  repository), for tests against the emulator's second origin.

Anything else fails at once with the host named.

A storage bearer token (ENVSYNC_STORAGE_TOKEN, or the identity's token for storage.azure.com)
goes to the blob service a datastore answer names, so it has a rule of its own,
`check_storage_token`: Azure's clouds' blob hosts over https, or loopback (the emulator's blob
service, Azurite). ENVSYNC_TRUSTED_ORIGINS adds nothing there: it lists loopback origins only.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from envsync.errors import WorkspaceError
from envsync.http.clouds import BLOB_HOST_SUFFIXES, is_cloud_blob
from envsync.http.session import check_endpoint, is_loopback

REGISTRY_HOST_SUFFIXES = (".api.azureml.ms", ".api.ml.azure.cn", ".api.ml.azure.us")
TRUSTED_ORIGINS_VARIABLE = "ENVSYNC_TRUSTED_ORIGINS"


class UntrustedOrigin(WorkspaceError):
    """An answer pointed the client at a host its token may not go to."""


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{(parts.netloc or '').lower()}"


def check_followed(what: str, url: str, base_url: str, *, registry: bool = False) -> str:
    """`url` if the token may follow it from `base_url`, else `UntrustedOrigin` naming its host."""
    check_endpoint(url)
    if origin(url) == origin(base_url) or origin(url) in _trusted_loopback():
        return url
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if registry and parts.scheme == "https" and host.endswith(REGISTRY_HOST_SUFFIXES):
        return url
    allowed = "the configured endpoint's origin"
    if registry:
        allowed += " and Azure ML's registry hosts (*" + ", *".join(REGISTRY_HOST_SUFFIXES) + ")"
    raise UntrustedOrigin(
        f"{what} is on {host}, not {urlsplit(base_url).hostname}: envsync sends its token only to "
        f"{allowed}, so it does not follow it (see docs/real-service.md)",
        code="UntrustedOrigin",
    )


def check_storage_token(what: str, account_url: str) -> str:
    """`account_url` if a storage bearer token may go there, else `UntrustedOrigin` naming its host."""
    if is_cloud_blob(account_url) or (is_loopback(account_url) and "@" not in urlsplit(account_url).netloc):
        return account_url
    host = urlsplit(account_url).hostname or account_url
    raise UntrustedOrigin(
        f"{what} names the storage host {host}: envsync sends a storage token only over https to "
        f"Azure Storage ({', '.join('*' + s for s in BLOB_HOST_SUFFIXES)}) or to loopback, so it "
        "sends nothing there (see docs/security.md)",
        code="UntrustedOrigin",
    )


def _trusted_loopback() -> frozenset[str]:
    listed = (os.environ.get(TRUSTED_ORIGINS_VARIABLE) or "").split(",")
    return frozenset(origin(u.strip()) for u in listed if u.strip() and is_loopback(u.strip()))
