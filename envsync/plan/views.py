"""What a plan shows of an environment: git's spec or a workspace version as one plain view."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from envsync.content.fingerprint import Content, context_display
from envsync.spec.load import EnvironmentSpec
from envsync.workspace import RemoteVersion


def spec_view(spec: EnvironmentSpec, root: Path) -> dict[str, Any]:
    view = _view(spec.content(), spec.description, spec.tags)
    if view["build"] is not None and spec.build is not None:
        if spec.build.remote:  # its SAS never shows
            view["build"]["context"] = context_display(spec.build.path)
        else:
            view["build"]["path"] = relative(Path(spec.build.path), root)
    return view


def remote_view(version: RemoteVersion) -> dict[str, Any]:
    body = version.body
    view = _view(body.content(), body.description, body.tags)
    if view["build"] is not None and body.build is not None:
        view["build"]["context"] = context_display(body.build.context_uri)
    return view


def _view(content: Content, description: str | None, tags: Mapping[str, str]) -> dict[str, Any]:
    # No deep copy (asdict's): the conda value is never mutated, and copying cost the most.
    context = content.context
    return {
        "image": content.image,
        "conda": content.conda,
        "os_type": content.os_type,
        "inference_config": content.inference_config,
        "build": {"context": context, "dockerfile_path": content.dockerfile_path} if context else None,
        "description": description or "",
        "tags": dict(sorted(tags.items())),
    }


def relative(path: Path, root: Path) -> str:
    text, prefix = str(path), f"{root}/"
    if text.startswith(prefix):  # the usual case, without relpath's cost
        return text[len(prefix) :]
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()
