"""What the rules see of one environment, and what they report: a `Hit`, located."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from envsync.spec.model import EnvironmentSpec
from envsync.spec.policy.dockerfile import Pulled, pulled_images
from envsync.spec.yamlio import Key, YamlDocument


@dataclass(frozen=True, slots=True)
class Hit:
    """One rule's finding at `path:line:col` (the rule's severity is decided later, per target)."""

    rule: str
    path: str
    line: int
    col: int
    message: str


@dataclass(frozen=True)
class Subject:
    """One valid environment as loaded: its spec, and the documents that say where each value
    was written (the environment YAML, and its conda file when it names one)."""

    spec: EnvironmentSpec
    doc: YamlDocument
    root: Path  # the repository root: Dockerfiles are shown relative to it
    conda_doc: YamlDocument | None = None
    # A local build context's upload: (posix path inside the context, bytes) per file.
    files: tuple[tuple[str, int], ...] = ()

    @property
    def conda(self) -> Any:
        return self.spec.conda

    def hit(self, rule: str, key: Key, message: str) -> Hit:
        """A hit at the value of `key` in the environment YAML."""
        line, col = self.doc.where(key)
        return Hit(rule, self.doc.path, line, col, message)

    def conda_hit(self, rule: str, key: Key, message: str) -> Hit:
        """A hit at `key` inside the conda spec: in the conda file, or under `conda_file:`."""
        if self.conda_doc is not None:
            line, col = self.conda_doc.where(key)
            return Hit(rule, self.conda_doc.path, line, col, message)
        return self.hit(rule, ("conda_file", *key), message)

    def context_key(self) -> Key:
        return ("build", "path" if "path" in self.doc.data.get("build", {}) else "local_path")

    @property
    def dockerfile(self) -> tuple[str, str] | None:
        """The local build context's Dockerfile as shown and its text, or None (no local
        context, or it went away since loading checked it); read once for every policy."""
        if self.spec.build is None or self.spec.build.remote:
            return None  # most environments: no need to look further
        return self._dockerfile

    @property
    def pulled(self) -> list[Pulled]:
        """The images the Dockerfile pulls (none without one)."""
        return self._pulled if self.dockerfile else []

    @cached_property
    def _dockerfile(self) -> tuple[str, str] | None:
        assert self.spec.build is not None
        path = Path(self.spec.build.path) / self.spec.build.dockerfile_path
        try:
            return display(path, self.root), path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    @cached_property
    def _pulled(self) -> list[Pulled]:
        return pulled_images(self._dockerfile[1]) if self._dockerfile else []


def display(path: Path, root: Path) -> str:
    """`path` relative to `root` in posix form when inside it, else as given."""
    absolute, base = os.path.abspath(path), os.path.abspath(root)
    if absolute.startswith(base.rstrip(os.sep) + os.sep):
        return Path(os.path.relpath(absolute, base)).as_posix()
    return str(path)
