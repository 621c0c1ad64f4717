"""What `envsync list` and `envsync show` print: workspace environments the way `az ml environment
list` and `az ml environment show` present them. Pure: values in, strings out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from envsync.content.fingerprint import parse_conda_text
from envsync.errors import EnvsyncError
from envsync.http.redact import redact_url
from envsync.spec.references import PREFIX, BadReference, parse_reference
from envsync.text import escape
from envsync.workspace import Container, RemoteVersion

if TYPE_CHECKING:
    from envsync.plan.usage import Usage

LATEST = "latest"
# REST route names → the az ml YAML names (reference-yaml-environment.md).
_ROUTES = {
    "livenessRoute": "liveness_route",
    "readinessRoute": "readiness_route",
    "scoringRoute": "scoring_route",
}


@dataclass(frozen=True)
class Wanted:
    """A `show` argument: one version, or `version is None` for @latest."""

    name: str
    version: str | None = None

    def __str__(self) -> str:
        return f"{self.name}:{self.version}" if self.version else f"{self.name}@{LATEST}"


def parse_wanted(text: str) -> Wanted:
    """`NAME`, `NAME:VERSION` or `NAME@latest`, with or without the `azureml:` prefix.
    A bare name means the latest version, as `az ml environment show --label latest`."""
    bare = text[len(PREFIX) :] if text.startswith(PREFIX) else text
    if ":" not in bare and "@" not in bare:
        bare += f"@{LATEST}"
    try:
        target = parse_reference(PREFIX + bare)
    except BadReference as e:
        raise EnvsyncError(str(e)) from None
    assert target.name is not None  # the short form always names one
    return Wanted(target.name, target.version)


def latest(versions: Iterable[RemoteVersion]) -> RemoteVersion | None:
    """The most recently created active version, the way azure-ai-ml resolves `@latest`
    (created time, not the highest number). Ties keep the backend's newest-first order."""
    active = [v for v in versions if not v.archived]
    return sorted(active, key=lambda v: v.created, reverse=True)[0] if active else None


def show_doc(version: RemoteVersion) -> dict[str, Any]:
    """One version in `az ml environment show`'s shape: snake_case, unset fields left out."""
    body = version.body
    doc: dict[str, Any] = {"name": version.name, "version": version.version}
    if body.image:
        doc["image"] = body.image
    if body.conda_file is not None:
        doc["conda_file"] = parse_conda_text(body.conda_file)
    if body.build is not None:
        path = redact_url(body.build.context_uri)  # a SAS never shows
        doc["build"] = {"path": path, "dockerfile_path": body.build.dockerfile_path}
    doc["os_type"] = body.os_type
    if body.inference_config:
        doc["inference_config"] = inference_yaml(body.inference_config)
    if body.description:
        doc["description"] = body.description
    doc["tags"] = dict(body.tags)
    doc["properties"] = dict(body.properties)
    doc["creation_context"] = {"created_at": version.created}
    if version.archived:
        doc["is_archived"] = True
    return doc


def inference_yaml(config: Mapping[str, Any]) -> dict[str, Any]:
    """REST `inferenceConfig` (livenessRoute, ...) → the YAML's `inference_config`."""
    return {_ROUTES.get(k, k): dict(v) if isinstance(v, Mapping) else v for k, v in config.items()}


def render_doc(doc: Any, fmt: str) -> str:
    """`doc` as JSON or YAML for a terminal: workspace values never act on it (their control
    characters and line breaks appear as the format's own escapes, so the text means the same)."""
    if fmt == "json":
        return escape.json_text(json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False)) + "\n"
    # No folding (width): a folded line could start with a value's `::`.
    shown = yaml.dump(doc, Dumper=_ShownDumper, sort_keys=False, allow_unicode=True, width=2**31)
    return escape.lines(shown)


class _ShownDumper(yaml.SafeDumper):
    """Double-quotes every string that holds a character a terminal could obey (or could start a
    workflow command at a line's start), so that each stays within one escaped line."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    unsafe = not value.isprintable() or value.lstrip().startswith(":")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"' if unsafe else None)


_ShownDumper.add_representer(str, _represent_str)


# -- list ---------------------------------------------------------------------------------------


def visible(
    containers: Iterable[Container], *, curated: bool = False, archived: bool = False
) -> list[Container]:
    """Containers `envsync list` shows, by name: curated ones only on request, as archived ones."""
    return sorted(
        (c for c in containers if (curated or not c.curated) and (archived or not c.archived)),
        key=lambda c: (c.name.lower(), c.name),
    )


def environment_rows(
    containers: Sequence[Container], created: Mapping[str, str], usage: Usage | None = None
) -> list[dict[str, Any]]:
    """One row per environment: name, latest version and when that version was created; with
    `usage`, the deployments on each of its versions ("1: online deployment blue of ...")."""
    rows = []
    for c in containers:
        row = {
            "name": c.name,
            "latest_version": c.latest_version,
            "created": created.get(c.name, ""),
            "archived": c.archived,
            "curated": c.curated,
        }
        if usage is not None:
            found = usage.of_environment(c.name)
            row["used_by"] = "; ".join(f"{v}: {', '.join(users)}" for v, users in found.items())
        rows.append(row)
    return rows


def version_rows(versions: Iterable[RemoteVersion], usage: Usage | None = None) -> list[dict[str, Any]]:
    rows = []
    for v in sorted(versions, key=lambda v: v.created, reverse=True):
        row = {"name": v.name, "version": v.version, "created": v.created, "archived": v.archived}
        if usage is not None:
            row["used_by"] = ", ".join(usage.of(v.name, v.version))
        rows.append(row)
    return rows


def with_users(doc: dict[str, Any], usage: Usage | None) -> dict[str, Any]:
    """A version's `show` document, plus (with `usage`) the live deployments that run it."""
    if usage is None:
        return doc
    return {**doc, "used_by": list(usage.of(doc["name"], doc["version"]))}


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A plain aligned table: upper-case headers, one row a line, booleans as yes/blank."""
    cells = [[c.upper().replace("_", " ") for c in columns]]
    cells += [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = ("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in cells)
    return "".join(line + "\n" for line in lines)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else ""
    return "" if value is None else escape.terminal(value)
