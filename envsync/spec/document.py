"""One environment YAML (the `az ml environment create --file` format) → a validated spec.

`load_spec` checks one file against `schemas/environment.schema.json` (worded by
`spec.schema`) and the rules a schema cannot express (`spec.rules`, `spec.conda`), then resolves
its conda file and build context, and runs the configured policies on it. Nothing here raises
for a bad file: its problems are the result. The repository-wide view (every file, the
cross-file rules, the validation cache) is `spec.load`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envsync.content.fingerprint import normalize_os_type
from envsync.spec import rules
from envsync.spec.build import with_digest
from envsync.spec.kinds import not_an_environment
from envsync.spec.loaded import Loaded
from envsync.spec.model import EnvironmentSpec
from envsync.spec.policy.engine import evaluate_all
from envsync.spec.policy.settings import Policy
from envsync.spec.policy.subject import Subject
from envsync.spec.problems import Problem, Report, yaml_kind
from envsync.spec.schema import schema_findings
from envsync.spec.yamlio import Key, YamlDocument, YamlError, load_yaml

if TYPE_CHECKING:
    from envsync.content.context import ContextDigests

ReadFile = Callable[[Path], str]
Policies = Mapping[str, Policy] | None  # by key: "" for the top level, else a target name
Digests = Callable[[Path], "ContextDigests"]  # a build context's digests (cached, or computed)


def load_spec(
    path: Path,
    *,
    root: Path,
    text: str | None = None,
    read_file: ReadFile | None = None,
    policies: Policies = None,
) -> tuple[EnvironmentSpec | None, list[Problem]]:
    """Validate one environment YAML: (the spec, or None when it has errors; its problems).

    `text` replaces the file's content (read at a git ref, say); its conda file is read with
    `read_file` when given, else from disk, and a build context always from disk. Paths in
    problems are relative to `root` when inside it. A valid spec carries each of `policies`'
    verdicts (`EnvironmentSpec.policy`).
    """
    loaded = load_file(path, root=root, text=text, read_file=read_file, policies=policies)
    return loaded.spec, sorted(loaded.problems)


def load_file(
    path: Path,
    *,
    root: Path,
    text: str | None,
    read_file: ReadFile | None,
    policies: Policies,
    digests: Digests | None = None,
) -> Loaded:
    path = absolute(path)
    shown = display(path, root)
    try:
        doc = load_yaml(path, display=shown, text=text)
    except YamlError as e:
        reason = rules.yaml_reason(e, lambda: text if text is not None else _read_text(path))
        return Loaded(None, (Problem(e.path, e.line, e.col, reason),))
    if not isinstance(doc.data, dict):
        message = f"the file must be a mapping (name, image or build, ...), not {yaml_kind(doc.data)}"
        return Loaded(None, (Problem(shown, 1, 1, message),))
    other = not_an_environment(doc.data)
    if other is not None:
        return Loaded(None, (Problem(shown, 1, 1, f"not an environment YAML: {other}"),))
    report = Report(doc)
    for finding in schema_findings(doc.data):
        report.add(finding)
    spec = _resolve(report, path, text, root, read_file, policies, digests)
    identity, at = rules.identity(doc.data), doc.where(("name",))
    return Loaded(spec, tuple(report.problems), identity, at, rules.inputs(doc.data, path.parent, root))


ANONYMOUS_NAME = "CliV2AnonymousEnvironment"  # the name az ml gives an environment a job defines


def load_inline(doc: YamlDocument, key: Key, *, root: Path) -> list[Problem]:
    """Validate an anonymous environment written inline in a job or deployment (the mapping at
    `key` of `doc`, say `environment: {image: ...}`) like an environment file, its relative paths
    resolved from the job's folder. It has no name of its own: it gets the one az ml gives it."""
    data: Any = doc.data
    for part in key:
        data = data[part]
    n = len(key)
    values = {k[n:]: v for k, v in doc.value_marks.items() if k[:n] == key}
    keys = {k[n:]: v for k, v in doc.key_marks.items() if k[:n] == key}
    report = Report(YamlDocument(doc.path, {"name": ANONYMOUS_NAME, **data}, values, keys))
    for finding in schema_findings(report.doc.data):
        report.add(finding)
    _resolve(report, absolute(root / doc.path), None, root, None)
    return sorted(report.problems)


def _resolve(
    report: Report,
    path: Path,
    text: str | None,
    root: Path,
    read_file: ReadFile | None,
    policies: Policies = None,
    digests: Digests | None = None,
) -> EnvironmentSpec | None:
    data, base = report.doc.data, path.parent
    shown: Callable[[Path], str] = lambda p: display(p, root)  # noqa: E731 - named for the call below
    source = rules.source_text(lambda: text if text is not None else _read_text(path))
    version = rules.version_of(report, data.get("version"), source)
    tags = rules.tags_of(report, data.get("tags"), source)
    conda, conda_source, conda_doc = None, None, None
    if "conda_file" in data and "build" not in data:
        conda, conda_source, conda_doc = rules.resolve_conda(
            report, data["conda_file"], base, root=root, display=shown, read_file=read_file
        )
    build = rules.resolve_build(report, data.get("build"), base, root)
    if report.has_errors:
        return None
    built, files = with_digest(report, build, path, digests)
    spec = EnvironmentSpec(
        name=data["name"],
        source=path,
        version=version,
        description=data.get("description"),
        tags=tags,
        image=data.get("image"),
        conda=conda,
        conda_source=conda_source,
        build=built,
        os_type=normalize_os_type(data.get("os_type")),
        inference_config=rules.inference_config(data.get("inference_config")),
        line=report.doc.key_where(("name",))[0],
        datastore=data.get("datastore"),
    )
    if not policies:
        return spec
    subject = Subject(spec, report.doc, absolute(root), conda_doc, files)
    verdicts = evaluate_all(subject, policies)
    return replace(spec, policy=verdicts) if verdicts else spec


def absolute(path: Path) -> Path:
    # Normalised but not resolved: a symlinked file keeps the name the user gave it.
    return Path(os.path.abspath(path))


def display(path: Path, root: Path) -> str:
    full, base = absolute(path), absolute(root)
    return full.relative_to(base).as_posix() if full.is_relative_to(base) else str(path)


def _read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig")
