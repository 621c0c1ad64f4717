"""Environment YAMLs (the `az ml environment create --file` format) → validated specs.

`load_spec` checks one file against `schemas/environment.schema.json` (worded by
`spec.schema`) and the rules a schema cannot express (`spec.rules`, `spec.conda`), then resolves
its conda file and build context. `load_all` does that for every file the config names and
adds the cross-file rule: one file per (name, version). Every problem of every file is
reported in one run; nothing here raises for a bad file.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envsync.content.fingerprint import (
    normalize_os_type,
)
from envsync.errors import SpecError
from envsync.spec import rules
from envsync.spec.build import with_digest
from envsync.spec.model import BuildSpec, EnvironmentSpec
from envsync.spec.policy.engine import collected, evaluate_all
from envsync.spec.policy.settings import Policy
from envsync.spec.policy.subject import Subject
from envsync.spec.problems import Problem, Report, Severity, Suppressed, yaml_kind
from envsync.spec.schema import schema_findings
from envsync.spec.yamlio import Key, YamlDocument, YamlError, load_yaml

if TYPE_CHECKING:
    from envsync.config import Config

__all__ = [
    "BuildSpec",
    "EnvironmentSpec",
    "LoadResult",
    "Problem",
    "Severity",
    "find_spec_files",
    "load_all",
    "load_inline",
    "load_spec",
]

ReadFile = Callable[[Path], str]
Policies = Mapping[str, Policy] | None  # by key: "" for the top level, else a target name


@dataclass(frozen=True)
class LoadResult:
    """The environments of a repository, and every problem found loading them (sorted)."""

    specs: tuple[EnvironmentSpec, ...] = ()
    problems: tuple[Problem, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()  # policy findings an inline comment allows

    def with_policy(self, key: str) -> LoadResult:
        """Plus what policy `key` ("" for the top level, else a target) found in the specs."""
        found = collected(self.specs, key)
        problems = tuple(sorted({*self.problems, *found.problems}))
        return replace(
            self, problems=problems, suppressed=tuple(sorted({*self.suppressed, *found.suppressed}))
        )

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.WARNING)


@dataclass(frozen=True)
class _Loaded:
    """One file's outcome, plus what `load_all` needs even when the file is invalid."""

    spec: EnvironmentSpec | None
    problems: tuple[Problem, ...]
    identity: tuple[str, str | None] | None = None  # (name, version) as written
    at: tuple[int, int] = (1, 1)  # of the name
    inputs: tuple[Path, ...] = ()  # conda file and local build context it names


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
    loaded = _load(path, root=root, text=text, read_file=read_file, policies=policies)
    return loaded.spec, sorted(loaded.problems)


def _load(
    path: Path,
    *,
    root: Path,
    text: str | None,
    read_file: ReadFile | None,
    policies: Policies,
) -> _Loaded:
    path = _absolute(path)
    shown = _display(path, root)
    try:
        doc = load_yaml(path, display=shown, text=text)
    except YamlError as e:
        reason = rules.yaml_reason(e, lambda: text if text is not None else _read_text(path))
        return _Loaded(None, (Problem(e.path, e.line, e.col, reason),))
    if not isinstance(doc.data, dict):
        message = f"the file must be a mapping (name, image or build, ...), not {yaml_kind(doc.data)}"
        return _Loaded(None, (Problem(shown, 1, 1, message),))
    report = Report(doc)
    for finding in schema_findings(doc.data):
        report.add(finding)
    spec = _resolve(report, path, text, root, read_file, policies)
    identity, at = rules.identity(doc.data), doc.where(("name",))
    return _Loaded(spec, tuple(report.problems), identity, at, rules.inputs(doc.data, path.parent))


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
    _resolve(report, _absolute(root / doc.path), None, root, None)
    return sorted(report.problems)


def _resolve(
    report: Report,
    path: Path,
    text: str | None,
    root: Path,
    read_file: ReadFile | None,
    policies: Policies = None,
) -> EnvironmentSpec | None:
    data, base = report.doc.data, path.parent
    display: Callable[[Path], str] = lambda p: _display(p, root)  # noqa: E731 - named for the call below
    source = rules.source_text(lambda: text if text is not None else _read_text(path))
    version = rules.version_of(report, data.get("version"), source)
    tags = rules.tags_of(report, data.get("tags"), source)
    conda, conda_source, conda_doc = None, None, None
    if "conda_file" in data and "build" not in data:
        conda, conda_source, conda_doc = rules.resolve_conda(
            report, data["conda_file"], base, display=display, read_file=read_file
        )
    build = rules.resolve_build(report, data.get("build"), base)
    if report.has_errors:
        return None
    built, files = with_digest(report, build, path)
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
    subject = Subject(spec, report.doc, _absolute(root), conda_doc, files)
    return replace(spec, policy=evaluate_all(subject, policies))


def find_spec_files(config: Config, paths: Sequence[Path] = ()) -> list[Path]:
    """Candidate environment YAMLs, sorted: the config's globs, or the given files and folders.

    Relative `paths` are relative to the repository root. A folder contributes its *.yml and
    *.yaml files, recursively; a named file is taken as is (a missing one is reported on load).
    """
    root = _absolute(config.root)
    if not paths:
        return _unique(p for pattern in config.environments for p in root.glob(pattern) if p.is_file())
    found: list[Path] = []
    for given in paths:
        path = _absolute(given if given.is_absolute() else root / given)
        if path.is_dir():
            found += [p for ext in ("yml", "yaml") for p in path.glob(f"**/*.{ext}") if p.is_file()]
        else:
            found.append(path)
    return _unique(found)


def load_all(config: Config, paths: Sequence[Path] = ()) -> LoadResult:
    """Load every environment YAML; files that other environments use as inputs are skipped.

    A conda file or a file inside another environment's build context matches the globs
    (`environments/**/*.yml`) but is that environment's input, not an environment.
    """
    root = _absolute(config.root)
    loaded = {
        p: _load(p, root=root, text=None, read_file=None, policies=config.policies)
        for p in find_spec_files(config, paths)
    }
    inputs = _inputs(loaded)
    kept = {p: one for p, one in loaded.items() if p not in inputs}
    problems = {p for one in kept.values() for p in one.problems} | set(_duplicates(kept, root))
    specs = tuple(one.spec for one in kept.values() if one.spec is not None)
    return LoadResult(specs=specs, problems=tuple(sorted(problems)))


def _inputs(loaded: Mapping[Path, _Loaded]) -> set[Path]:
    """The loaded files that another environment uses: its conda file, or inside its context."""
    owners: defaultdict[Path, set[Path]] = defaultdict(set)
    for owner, one in loaded.items():
        for used in one.inputs:
            owners[used].add(owner)
    # A file can only be an ancestor as a folder, so walking the parents finds contexts.
    return {p for p in loaded if any(owners.get(q, set()) - {p} for q in (p, *p.parents))}


def _duplicates(loaded: Mapping[Path, _Loaded], root: Path) -> list[Problem]:
    groups: defaultdict[tuple[str, str | None], list[Path]] = defaultdict(list)
    for path, one in loaded.items():
        if one.identity is not None:
            groups[one.identity].append(path)
    found = []
    for (name, version), paths in groups.items():
        what = f"version '{version}'" if version is not None else "without a version"
        for path in paths if len(paths) > 1 else ():
            others = ", ".join(_display(p, root) for p in paths if p != path)
            line, col = loaded[path].at
            message = f"environment '{name}' {what} is also defined in {others}"
            found.append(Problem(_display(path, root), line, col, message))
    return found


def _absolute(path: Path) -> Path:
    # Normalised but not resolved: a symlinked file keeps the name the user gave it.
    return Path(os.path.abspath(path))


def _display(path: Path, root: Path) -> str:
    absolute, base = _absolute(path), _absolute(root)
    return absolute.relative_to(base).as_posix() if absolute.is_relative_to(base) else str(path)


def _read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig")


def _unique(paths: Iterable[Path]) -> list[Path]:
    return sorted({_absolute(p) for p in paths}, key=lambda p: p.as_posix())


def load_valid(config: Config, paths: Sequence[Path] = ()) -> tuple[EnvironmentSpec, ...]:
    """Git's environments; any invalid file stops everything (nothing is planned or applied)."""
    loaded = load_all(config, paths)
    if loaded.errors:
        count = len(loaded.errors)
        raise SpecError(
            f"{count} problem{'s' * (count != 1)} in environment files; nothing planned",
            details=tuple(str(p) for p in loaded.problems),
        )
    return loaded.specs
