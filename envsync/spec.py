"""Environment YAMLs (the `az ml environment create --file` format) → validated specs."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from envsync.fingerprint import (
    Content,
    conda_text,
    context_from_uri,
    fingerprint,
    normalize_dockerfile_path,
    normalize_os_type,
)
from envsync.workspace import BuildContext, VersionBody


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One finding of validation, printed as `path:line:col: message`."""

    path: str
    line: int
    col: int
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        return f"{self.path}:{self.line}:{self.col}: {prefix}{self.message}"


@dataclass(frozen=True)
class BuildSpec:
    path: str  # an absolute local folder, or the URL of a context already uploaded
    dockerfile_path: str = "Dockerfile"
    digest: str | None = None  # az ml's content hash of a local context

    @property
    def remote(self) -> bool:
        return self.digest is None


@dataclass(frozen=True, eq=False)
class EnvironmentSpec:
    """One environment as git defines it: validated, resolved, fingerprinted."""

    name: str
    source: Path  # the YAML file
    version: str | None = None
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    image: str | None = None
    conda: Any = None  # the parsed conda spec (inline or from conda_source)
    conda_source: Path | None = None  # the conda file, when given as a path
    build: BuildSpec | None = None
    os_type: str = "linux"
    inference_config: Mapping[str, Any] | None = None  # REST shape (camelCase)
    line: int = 1

    def content(self) -> Content:
        return Content(
            image=self.image,
            conda=self.conda,
            context=(self.build.digest or context_from_uri(self.build.path)) if self.build else None,
            dockerfile_path=(
                normalize_dockerfile_path(self.build.dockerfile_path) if self.build else None
            ),
            os_type=normalize_os_type(self.os_type),
            inference_config=dict(self.inference_config) if self.inference_config else None,
        )

    @cached_property
    def fingerprint(self) -> str:
        return fingerprint(self.content())

    @property
    def inputs(self) -> tuple[Path, ...]:
        """Files and folders whose content this spec depends on (for change detection)."""
        found = [self.source]
        if self.conda_source:
            found.append(self.conda_source)
        if self.build and not self.build.remote:
            found.append(Path(self.build.path))
        return tuple(found)

    def body(
        self, *, context_uri: str | None = None, properties: Mapping[str, str] | None = None
    ) -> VersionBody:
        """The PUT body that creates this spec's version (context_uri once uploaded)."""
        build = None
        if self.build:
            uri = context_uri or self.build.path
            build = BuildContext(uri, normalize_dockerfile_path(self.build.dockerfile_path))
        return VersionBody(
            image=self.image,
            conda_file=conda_text(self.conda) if self.conda is not None else None,
            build=build,
            os_type=normalize_os_type(self.os_type),
            inference_config=self.inference_config,
            description=self.description,
            tags=dict(self.tags),
            properties=dict(properties or {}),
        )
