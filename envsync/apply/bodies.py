"""The REST bodies apply writes: a spec's version, as a PUT creates it."""

from __future__ import annotations

from collections.abc import Mapping

from envsync.content.fingerprint import conda_text, normalize_dockerfile_path, normalize_os_type
from envsync.spec.model import EnvironmentSpec
from envsync.workspace import BuildContext, VersionBody


def version_body(
    spec: EnvironmentSpec, *, context_uri: str | None = None, properties: Mapping[str, str] | None = None
) -> VersionBody:
    """The PUT body that creates `spec`'s version (`context_uri` once its context is uploaded)."""
    build = None
    if spec.build:
        uri = context_uri or spec.build.path
        build = BuildContext(uri, normalize_dockerfile_path(spec.build.dockerfile_path))
    return VersionBody(
        image=spec.image,
        conda_file=conda_text(spec.conda) if spec.conda is not None else None,
        build=build,
        os_type=normalize_os_type(spec.os_type),
        inference_config=spec.inference_config,
        description=spec.description,
        tags=dict(spec.tags),
        properties=dict(properties or {}),
    )
