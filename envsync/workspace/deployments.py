"""Live usage: the online and batch deployments of a workspace, and the environment version
each one runs, read from its `properties.environmentId`.

mfe.json 2025-12-01 (`EndpointDeploymentPropertiesBase.environmentId`) calls the value an "ARM
resource ID or AssetId of the environment specification". What az ml and the studio write there
comes in these forms, each parsed here (`environment_use`):

- an ARM id: `/subscriptions/S/resourceGroups/G/providers/Microsoft.MachineLearningServices/
  workspaces/W/environments/NAME/versions/V` (or a registry's, `…/registries/R/environments/…`);
- an asset id: `azureml:NAME:VERSION`, `azureml:NAME@latest`, or location-qualified,
  `azureml://locations/L/workspaces/GUID/environments/NAME/versions/V`;
- a registry asset: `azureml://registries/R/environments/NAME/versions/V` (or `/labels/latest`).

Pure values and parsing; reading them is each backend's (`Workspace.list_deployments`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

_NAME = r"[A-Za-z0-9][A-Za-z0-9\-_.]{0,254}"
_TAIL = rf"environments/(?P<name>{_NAME})(?:/versions/(?P<version>[^/]+)|/labels/(?P<label>[^/]+))?/?$"
_ARM = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.MachineLearningServices/"
    rf"(?P<parent>workspaces|registries)/(?P<owner>[^/]+)/{_TAIL}",
    re.IGNORECASE,
)
_LOCATION = re.compile(rf"^azureml://locations/[^/]+/workspaces/[^/]+/{_TAIL}", re.IGNORECASE)
_REGISTRY = re.compile(rf"^azureml://registries/(?P<owner>[^/]+)/{_TAIL}", re.IGNORECASE)
_SHORT = re.compile(rf"^azureml:(?P<name>{_NAME})(?::(?P<version>[^@:/]+)|@(?P<label>[^@:/]+))$")


class EndpointKind(str, enum.Enum):
    ONLINE = "online"
    BATCH = "batch"


@dataclass(frozen=True)
class Deployment:
    """One deployment of one endpoint, with the environment id it runs (None: it names none,
    a model deployment whose environment the service picks)."""

    kind: EndpointKind
    endpoint: str
    name: str
    environment_id: str | None = None

    def describe(self) -> str:
        return f"{self.kind.value} deployment {self.name} of endpoint {self.endpoint}"


@dataclass(frozen=True)
class EnvironmentUse:
    """What an environment id names: a version of `name` (None: whatever @latest is), in this
    workspace unless `registry` (or `elsewhere`: another workspace, named by its ARM id)."""

    name: str
    version: str | None
    registry: str | None = None
    elsewhere: bool = False

    @property
    def here(self) -> bool:
        return self.registry is None and not self.elsewhere


def environment_use(environment_id: str | None, workspace: str | None = None) -> EnvironmentUse | None:
    """Parse a deployment's environment id; None for what names no environment version.
    `workspace` is this workspace's name: an ARM id of another workspace is `elsewhere`. A
    location-qualified id names its workspace by a GUID envsync does not know: it counts as
    this workspace's, so that a version it may run is kept rather than archived."""
    text = (environment_id or "").strip()
    found = _ARM.match(text)
    if found is not None:
        owner = found["owner"]
        if found["parent"].lower() == "registries":
            return _named(found, registry=owner)
        return _named(found, elsewhere=workspace is not None and owner.lower() != workspace.lower())
    found = _REGISTRY.match(text)
    if found is not None:
        return _named(found, registry=found["owner"])
    found = _LOCATION.match(text) or _SHORT.match(text)
    return _named(found) if found is not None else None


def _named(
    found: re.Match[str], *, registry: str | None = None, elsewhere: bool = False
) -> EnvironmentUse | None:
    label = found["label"]
    if label is not None and label.lower() != "latest":
        return None  # environments have no other label
    return EnvironmentUse(found["name"], found["version"], registry, elsewhere)
