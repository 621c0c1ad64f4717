"""A local build context as loading sees it: its digests, its files, and whether the YAML
that names it is inside it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from envsync.errors import SpecError
from envsync.spec import rules
from envsync.spec.model import BuildSpec
from envsync.spec.problems import Report

if TYPE_CHECKING:
    from envsync.content.context import ContextDigests

Listing = tuple[tuple[str, int], ...]


def with_digest(
    report: Report,
    build: tuple[str, str] | None,
    yaml_path: Path,
    digests: Callable[[Path], ContextDigests] | None = None,
) -> tuple[BuildSpec | None, Listing]:
    """The resolved build (context folder or URL, Dockerfile) with its digests, and the files an
    upload of a local context sends; a context that cannot be read is an error in `report`.
    `digests` computes them (through the validation cache, say) instead of `context_digests`."""
    # The digest reads every file of the context: only worth it once the rest is valid.
    if build is None:
        return None, ()
    location, dockerfile = build
    if rules.is_remote(location):
        return BuildSpec(location, dockerfile), ()
    from envsync.content.context import context_digests  # the hashes az ml names uploads by

    try:
        found = (digests or context_digests)(Path(location))
        _warn_if_in_own_context(report, Path(location), yaml_path)
        return BuildSpec(location, dockerfile, found.content, found.aliases), found.files
    except SpecError as e:
        key = ("build", "path" if "path" in report.doc.data["build"] else "local_path")
        report.error(key, f"build context: {e}")
        return None, ()


def _warn_if_in_own_context(report: Report, context: Path, yaml_path: Path) -> None:
    """`build.path: .` uploads the YAML too, so a description-only edit is a new version."""
    from envsync.content.context import context_files

    if yaml_path.resolve() in {f.path for f in context_files(context)}:
        key = ("build", "path" if "path" in report.doc.data["build"] else "local_path")
        report.warn(
            key,
            "this YAML is inside its own build context: any edit to it, even to description or "
            "tags, changes the context and makes a new version (move it out, or list it in .amlignore)",
        )
