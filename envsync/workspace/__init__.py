"""The seam between envsync and a workspace: one Protocol and the values that cross it.

The embedded SQLite workspace (`local/`) and the Azure ML REST client (`azure/`) both
satisfy `Workspace`; the planner and applier never know which one they hold.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from envsync.content.fingerprint import (
    Content,
    context_from_uri,
    normalize_dockerfile_path,
    normalize_inference_config,
    normalize_os_type,
    parse_conda_text,
)
from envsync.workspace.deployments import Deployment as Deployment  # re-exported: a value at the seam

PROVENANCE_PREFIX = "envsync."
FINGERPRINT_PROPERTY = "envsync.fingerprint"  # set at creation on every version envsync makes
SOURCE_PROPERTY = "envsync.source"  # repo-relative path of the YAML
COMMIT_PROPERTY = "envsync.commit"  # git commit SHA (suffixed "-dirty" for a dirty tree)


class ListView(str, enum.Enum):
    """ARM `listViewType`."""

    ACTIVE = "ActiveOnly"
    ARCHIVED = "ArchivedOnly"
    ALL = "All"


@dataclass(frozen=True)
class BuildContext:
    context_uri: str
    dockerfile_path: str = "Dockerfile"


@dataclass(frozen=True)
class VersionBody:
    """Everything a PUT of an environment version carries (all of it: a PUT replaces)."""

    image: str | None = None
    conda_file: str | None = None  # YAML text, as the service stores it
    build: BuildContext | None = None
    os_type: str = "linux"
    inference_config: Mapping[str, Any] | None = None  # REST shape (camelCase routes)
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, str] = field(default_factory=dict)
    archived: bool = False

    def __post_init__(self) -> None:
        # The service answers `condaFile: ""` for versions created without one (image-only,
        # build-context, curated); blank text is no conda spec, as an absent field is.
        if isinstance(self.conda_file, str) and not self.conda_file.strip():
            object.__setattr__(self, "conda_file", None)

    def content(self) -> Content:
        """The immutable part, normalised the way the service compares it."""
        return self._content

    def with_tags(self, tags: Mapping[str, str]) -> VersionBody:
        # dataclasses.replace, not VersionBody(**self.__dict__): the cached content lives in
        # __dict__ too and is no field.
        return replace(self, tags=dict(tags))

    @cached_property
    def _content(self) -> Content:  # parsing the conda text is the cost; a plan asks often
        return Content(
            image=self.image,
            conda=parse_conda_text(self.conda_file),
            context=context_from_uri(self.build.context_uri) if self.build else None,
            dockerfile_path=(normalize_dockerfile_path(self.build.dockerfile_path) if self.build else None),
            os_type=normalize_os_type(self.os_type),
            inference_config=normalize_inference_config(self.inference_config),
        )


@dataclass(frozen=True)
class RemoteVersion:
    """One environment version as a workspace returns it."""

    name: str
    version: str
    body: VersionBody
    created: str = ""  # ISO 8601, UTC
    curated: bool = False

    @property
    def archived(self) -> bool:
        return self.body.archived

    @property
    def fingerprint_property(self) -> str | None:
        return self.body.properties.get(FINGERPRINT_PROPERTY)

    @property
    def managed(self) -> bool:
        """Created by envsync (it carries envsync's provenance)."""
        return FINGERPRINT_PROPERTY in self.body.properties

    def with_body(self, **changes: Any) -> RemoteVersion:
        return replace(self, body=replace(self.body, **changes))


@dataclass(frozen=True)
class Container:
    """An environment (the container of its versions)."""

    name: str
    latest_version: str | None
    next_version: str | None
    archived: bool = False
    curated: bool = False
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, str] = field(default_factory=dict)


class Workspace(Protocol):
    """An Azure ML workspace as envsync sees it. Errors are `envsync.errors.WorkspaceError`s."""

    @property
    def target(self) -> str:
        """A human name for where this workspace lives (a path or an ARM id)."""

    def list_environments(self, view: ListView = ListView.ACTIVE) -> Iterator[Container]:
        """Every container, curated ones included, paged as the backend pages."""

    def get_environment(self, name: str) -> Container | None: ...

    def update_environment(self, name: str, *, description: str | None, tags: Mapping[str, str]) -> Container:
        """Replace a container's description and tags (envsync keeps its last-applied record in
        the tags); its versions, latest/next version and archived flag stay as they are."""

    def tag_environment(
        self,
        name: str,
        key: str,
        value: str,
        *,
        when_latest: str | None = None,
        current: Container | None = None,
    ) -> Container:
        """Set one tag on a container, keeping its description and other tags; no write when
        it already holds that value, or (with `when_latest`) when the container's latest version
        is another one. `current` is the container as the caller just read it (or made it):
        a client may write from it without reading it first."""

    def spare_writes(self) -> float | None:
        """Writes the workspace takes now without making the client wait for its rate limit
        (None: no limit known)."""

    def list_versions(self, name: str, view: ListView = ListView.ACTIVE) -> list[RemoteVersion]:
        """Versions of one environment, newest first; empty if the environment does not exist."""

    def get_version(self, name: str, version: str) -> RemoteVersion | None: ...

    def create_version(self, name: str, version: str, body: VersionBody) -> RemoteVersion:
        """PUT a version. Identical immutable content on an existing version succeeds (its
        description, tags and archived flag are replaced); different content raises
        `ConflictError` with Azure's 409 message."""

    def update_version(
        self, name: str, version: str, *, description: str | None, tags: Mapping[str, str]
    ) -> RemoteVersion:
        """Replace the mutable fields of an existing version, keeping everything else."""

    def set_archived(self, name: str, version: str | None, archived: bool) -> None:
        """Archive or restore one version, or the whole environment when `version` is None."""

    def upload_context(self, directory: Path, digest: str, *, name: str = "", version: str = "") -> str:
        """Upload a build context content-addressed by `digest` (skipped when already there)
        and return the `contextUri` that references it. `name` and `version` are the
        environment version it is for: a registry takes uploads per asset version (workspaces
        ignore them)."""

    def download_context(self, context_uri: str, dest: Path, *, name: str = "", version: str = "") -> None:
        """Download the build context `upload_context` (or az ml) stored at `context_uri`
        into the existing folder `dest`, one file per blob under it, relative paths kept.
        `name` and `version` name the version that uses it (a registry lends it per asset)."""

    def list_deployments(self) -> Iterator[Deployment]:
        """Every online and batch deployment, with the environment id it runs (a registry
        has none: its versions are deployed from workspaces it cannot see)."""

    def close(self) -> None: ...
