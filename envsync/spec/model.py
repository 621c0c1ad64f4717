"""An environment as git defines it: validated, resolved, fingerprinted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from envsync.content.fingerprint import (
    Content,
    context_from_uri,
    fingerprint,
    normalize_dockerfile_path,
    normalize_os_type,
)
from envsync.spec.problems import Verdict


@dataclass(frozen=True)
class BuildSpec:
    path: str  # an absolute local folder, or the URL of a context already uploaded
    dockerfile_path: str = "Dockerfile"
    digest: str | None = None  # az ml's content hash of a local context
    # Other digests naming the same local context: az ml's object hash, under which
    # `az ml environment create` uploads a named environment's context.
    aliases: tuple[str, ...] = ()

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
    line: int = 1  # of the `name:` key
    datastore: str | None = None  # where to upload a local build context (None: the default)
    # What each configured policy found when the file was loaded, by policy key ("" for the
    # top level, else a target name); a key that is absent found nothing.
    policy: Mapping[str, Verdict] = field(default_factory=dict, repr=False)

    def verdict(self, key: str) -> Verdict:
        return self.policy.get(key) or Verdict()

    def content(self) -> Content:
        return Content(
            image=self.image,
            conda=self.conda,
            context=(self.build.digest or context_from_uri(self.build.path)) if self.build else None,
            dockerfile_path=(normalize_dockerfile_path(self.build.dockerfile_path) if self.build else None),
            os_type=normalize_os_type(self.os_type),
            inference_config=dict(self.inference_config) if self.inference_config else None,
        )

    def matches(self, content: Content) -> bool:
        """Whether a workspace version's `content` is this spec's, its context named by any alias."""
        mine = self.content()
        if content == mine:
            return True
        if self.build is None or content.context is None or content.context not in self.build.aliases:
            return False
        return replace(content, context=mine.context) == mine

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
