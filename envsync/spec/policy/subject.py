"""What the rules see of one environment, and what they report: a `Hit`, located."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envsync.spec.model import EnvironmentSpec
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

    def dockerfile(self) -> tuple[Path, str] | None:
        """The local build context's Dockerfile and how to show it, or None (no local context)."""
        build = self.spec.build
        if build is None or build.remote:
            return None
        path = Path(build.path) / build.dockerfile_path
        return path, display(path, self.root)


def display(path: Path, root: Path) -> str:
    """`path` relative to `root` in posix form when inside it, else as given."""
    absolute, base = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    return absolute.relative_to(base).as_posix() if absolute.is_relative_to(base) else str(path)
