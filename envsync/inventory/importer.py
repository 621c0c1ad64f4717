"""`envsync import`: environments that exist in a workspace → environment YAMLs in git.

Each imported environment becomes `<out>/<name>.yml` in the `az ml environment create --file`
format, its conda spec a sibling `<name>.conda.yml`, and its build context (downloaded from the
datastore) `<out>/<name>/context/`. Written that way, `envsync plan` finds nothing to change:
the conda text is what the service stores, and the downloaded context hashes to the digest in
its `contextUri`. Building the files is pure; reading the workspace and writing them is not.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from envsync.content.fingerprint import DEFAULT_DOCKERFILE, context_from_uri, normalize_dockerfile_path
from envsync.errors import EnvsyncError
from envsync.inventory import confine
from envsync.inventory.inspect import inference_yaml, latest
from envsync.workspace import ListView, RemoteVersion, Workspace

SCHEMA = "https://azuremlschemas.azureedge.net/latest/environment.schema.json"
# Only sha256 digests (azure-ai-ml since 2022) can be reproduced from downloaded files; contexts
# uploaded by older SDKs (md5, 32 hex) keep their URI as a remote build path.
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class _Quoted(str):
    """A string always written in double quotes (versions: `version: "1"`, never `1`)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Quoted, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style='"'))


@dataclass(frozen=True)
class Imported:
    """The files one environment version becomes (paths relative to the output folder)."""

    version: RemoteVersion
    yaml_path: str
    yaml_text: str
    conda_path: str | None = None
    conda_text: str | None = None
    context_path: str | None = None  # the folder the build context is downloaded to
    context_uri: str | None = None
    notes: tuple[str, ...] = ()  # what was changed on the way (a credential left out)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(p for p in (self.yaml_path, self.conda_path, self.context_path) if p)


def files_for(version: RemoteVersion, where: str = "the workspace") -> Imported:
    """The files that define `version` again (pure). Its name and version came from the
    endpoint (`where`): both are checked before either becomes a file name or YAML."""
    name = confine.check_name(version.name, where)
    confine.check_version(version.version, f"{where}, environment {name}")
    version, notes = confine.scrubbed(version)
    body = version.body
    conda_path = f"{name}.conda.yml" if body.conda_file is not None else None
    context_path, build_path = None, None
    if body.build is not None:
        # A context az ml did not upload keeps its URI, never a credential in it: the YAML goes to git.
        build_path, dropped = confine.credential_free(body.build.context_uri)
        if _SHA256.match(context_from_uri(body.build.context_uri) or ""):
            context_path = build_path = f"{name}/context"  # downloaded: the URI is not written
        elif dropped:
            notes += (
                f"{name}:{version.version}: its contextUri carried a credential (SAS or password); "
                "written without it",
            )
    return Imported(
        version=version,
        yaml_path=f"{name}.yml",
        yaml_text=environment_yaml(version, conda_file=conda_path, build_path=build_path),
        conda_path=conda_path,
        conda_text=conda_yaml(body.conda_file),
        context_path=context_path,
        context_uri=body.build.context_uri if context_path and body.build else None,
        notes=notes,
    )


def conda_yaml(text: str | None) -> str | None:
    """The conda file to write for a version's `condaFile`: its text as stored, except that the
    JSON text the service answers with (whatever YAML was sent) is written back as YAML, the
    same content in the form people keep in git."""
    if text is None or not text.lstrip().startswith("{"):
        return text
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return yaml.safe_dump(parsed, sort_keys=False, allow_unicode=True, default_flow_style=False)


def environment_yaml(version: RemoteVersion, *, conda_file: str | None, build_path: str | None) -> str:
    """The az ml environment YAML for `version`, its conda file and build path given."""
    body = version.body
    doc: dict[str, Any] = {"$schema": SCHEMA, "name": version.name, "version": _Quoted(version.version)}
    if body.description:
        doc["description"] = body.description
    if body.tags:
        doc["tags"] = {k: str(v) for k, v in sorted(body.tags.items())}
    if body.image:
        doc["image"] = body.image
    if conda_file:
        doc["conda_file"] = conda_file
    if body.build is not None and build_path:
        doc["build"] = {"path": build_path}
        dockerfile = normalize_dockerfile_path(body.build.dockerfile_path)
        if dockerfile != DEFAULT_DOCKERFILE:
            doc["build"]["dockerfile_path"] = dockerfile
    if body.os_type != "linux":
        doc["os_type"] = body.os_type
    if body.inference_config:
        doc["inference_config"] = inference_yaml(body.inference_config)
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False)


# -- reading the workspace and writing files (I/O) ----------------------------------------------


def select(workspace: Workspace, names: Sequence[str]) -> list[RemoteVersion]:
    """The latest active version of each named environment, else of every one the workspace
    holds. Curated environments are Microsoft's: never imported."""
    containers = {c.name: c for c in workspace.list_environments(ListView.ACTIVE)}
    for name in names:
        if name not in containers:
            raise EnvsyncError(f"no active environment '{name}' in {workspace.target}")
        if containers[name].curated:
            raise EnvsyncError(f"'{name}' is a curated environment: curated environments are never imported")
    wanted = list(dict.fromkeys(names)) or sorted(n for n, c in containers.items() if not c.curated)
    found = (latest(workspace.list_versions(name, ListView.ACTIVE)) for name in wanted)
    return [v for v in found if v is not None]


def plan_files(workspace: Workspace, names: Sequence[str], out: Path) -> list[Imported]:
    """The files importing `names` (else every environment) writes, each checked to resolve
    inside `out` (symlinks followed) before anything is downloaded or written."""
    where = f"the environment list of {workspace.target}"
    planned = [files_for(v, where) for v in select(workspace, names)]
    for item in planned:
        for rel in item.paths:
            confine.inside(out, rel)
    return planned


def existing(out: Path, planned: Sequence[Imported]) -> list[str]:
    """Planned paths already on disk (a context folder counts only when it holds something)."""
    taken = []
    for item in planned:
        for rel in item.paths:
            path = out / rel
            if path.is_file() or (path.is_dir() and any(path.iterdir())):
                taken.append(rel)
    return taken


def write(workspace: Workspace, out: Path, item: Imported) -> None:
    """Write one environment's files, downloading its build context first: a context that does
    not hash to its digest is refused before any file of this environment is written."""
    out.mkdir(parents=True, exist_ok=True)
    if item.context_path and item.context_uri:
        _download(workspace, item.context_uri, confine.inside(out, item.context_path), item.version)
    if item.conda_path and item.conda_text is not None:
        confine.inside(out, item.conda_path).write_text(item.conda_text, encoding="utf-8")
    confine.inside(out, item.yaml_path).write_text(item.yaml_text, encoding="utf-8")


def _download(workspace: Workspace, uri: str, dest: Path, version: RemoteVersion) -> None:
    from envsync.content.context import context_digest

    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".envsync-import-") as tmp:
        staged = Path(tmp) / "context"
        staged.mkdir()
        workspace.download_context(uri, staged, name=version.name, version=version.version)
        expected, got = context_from_uri(uri), context_digest(staged)
        if got != expected:
            raise EnvsyncError(f"{uri}: the downloaded build context hashes to {got}, not {expected}")
        if dest.is_dir():  # only reached with --force: a stale file would change the digest
            shutil.rmtree(dest)
        elif dest.exists():
            dest.unlink()
        staged.rename(dest)
