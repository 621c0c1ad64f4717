"""Job and deployment YAMLs that use an environment: find them, parse their references, check them.

A reference is the value of a top-level `environment:` key, in one of the forms az ml accepts:
`azureml:NAME:VERSION`, `azureml:NAME@latest`, a registry asset
`azureml://registries/REG/environments/NAME/versions/V` (or `/labels/latest`), or an inline
mapping (an anonymous environment, created by the job itself and never planned).
Finding and loading files is I/O; parsing is pure. Checking them against what a target knows is
`envsync.spec.known`; annotating a plan with the jobs a new version affects is
`envsync.plan.references`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from envsync.spec.files import OUTSIDE, RepoFiles, confined, is_walkable, walk_order, yaml_files_under
from envsync.spec.load import load_inline
from envsync.spec.pipelines import step_environments
from envsync.spec.problems import TEMPLATE_HINT, Problem, Severity, is_templated
from envsync.spec.yamlio import Key, YamlDocument, YamlError, load_yaml

PREFIX = "azureml:"
CURATED_PREFIXES = ("AzureML", "Microsoft")  # names Azure reserves for its curated environments
# Curated names carry dots (AzureML-sklearn-1.5), which user-created names cannot.
_NAME = r"[A-Za-z0-9][A-Za-z0-9\-_.]{0,254}"
_SHORT = re.compile(rf"^(?P<name>{_NAME})(?::(?P<version>.+)|@(?P<label>[^@:/]+))?$")
_REGISTRY = re.compile(
    rf"^azureml://registries/(?P<registry>[^/]+)/environments/(?P<name>{_NAME})"
    r"/(?:versions/(?P<version>[^/]+)|labels/(?P<label>[^/]+))/?$"
)
# A workspace asset by ARM id or by location: it may live in another workspace.
_EXTERNAL = re.compile(r"^azureml:(?://locations/|/subscriptions/).+/environments/[^/]+/versions/[^/]+$")
# Cheap filter before parsing a file found by the default scan (most YAML is not a job): an
# `environment:` key, at the top or in a pipeline's steps.
_TOP_LEVEL_ENVIRONMENT = re.compile(r"^\s*environment\s*:", re.MULTILINE)
# az ml's job, deployment and component schemas (commandJob, managedOnlineDeployment,
# commandComponent...): a file whose `$schema` names another is no job, whatever its keys.
_JOB_SCHEMA = re.compile(r"(?:job|deployment|component)[^/]*\.schema\.json$", re.IGNORECASE)
# Never a job or deployment of the repository's, whatever a default scan finds there.
_NEVER = (".github/", "envsync.yaml/")  # folders, and the file (matched with a slash added)


class Kind(str, enum.Enum):
    VERSION = "version"  # azureml:NAME:VERSION
    LATEST = "latest"  # azureml:NAME@latest
    REGISTRY = "registry"  # azureml://registries/...
    EXTERNAL = "external"  # an ARM id or a location-qualified asset
    INLINE = "inline"  # an anonymous environment mapping


class BadReference(ValueError):
    """The text is not an environment reference az ml understands; the message says why."""


@dataclass(frozen=True)
class Target:
    kind: Kind
    name: str | None = None
    version: str | None = None
    registry: str | None = None


@dataclass(frozen=True)
class Reference:
    """One `environment:` value in one job or deployment file."""

    path: str  # repo-relative
    line: int
    col: int
    text: str  # the reference as written, or "(inline environment)"
    target: Target
    inline: Mapping[str, Any] | None = field(default=None, compare=False)  # validated, never planned
    step: str = ""  # a pipeline step's name ("train", "prep.clean" in a nested one); "" at the top

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def shown(self) -> str:
        """The reference as a plan lists it: `path:line (text)`, naming its pipeline step."""
        step = f"step {self.step}: " if self.step else ""
        return f"{self.where} ({step}{self.text})"


def parse_reference(text: str) -> Target:
    """Parse a string `environment:` value. Raises `BadReference` with what to write instead."""
    value = text.strip()
    if value.startswith("azureml://registries/"):
        return _registry(value)
    if _EXTERNAL.match(value):
        return Target(Kind.EXTERNAL)
    if not value.startswith(PREFIX):
        raise BadReference(
            f"'{value}' is not an environment reference: write azureml:NAME:VERSION, "
            "azureml:NAME@latest or azureml://registries/REG/environments/NAME/versions/V"
        )
    return _short(value[len(PREFIX) :], value)


def _short(rest: str, value: str) -> Target:
    found = _SHORT.match(rest)
    if found is None:
        raise BadReference(f"'{value}': not a valid environment name (letters, digits, - and _)")
    name, version, label = found.group("name", "version", "label")
    if label is not None:
        if label != "latest":
            raise BadReference(f"'{value}': environments have only the label @latest, not @{label}")
        return Target(Kind.LATEST, name)
    if version is None:
        raise BadReference(f"'{value}' names no version: write {value}:VERSION or {value}@latest")
    return Target(Kind.VERSION, name, version)


def _registry(value: str) -> Target:
    found = _REGISTRY.match(value)
    if found is None:
        raise BadReference(
            f"'{value}': registry references look like azureml://registries/REG/environments/"
            "NAME/versions/V or .../labels/latest"
        )
    label = found.group("label")
    if label is not None and label != "latest":
        raise BadReference(f"'{value}': environments have only the label latest, not {label}")
    return Target(Kind.REGISTRY, found.group("name"), found.group("version"), found.group("registry"))


# -- finding and loading (I/O) ------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    references: tuple[Reference, ...] = ()
    problems: tuple[Problem, ...] = ()


def reference_files(
    root: Path, globs: Sequence[str], environment_globs: Sequence[str], files: RepoFiles | None = None
) -> list[Path]:
    """The configured files, else every YAML with a top-level `environment:` key outside the
    environment files and the folders that are never the repo's own (.git, .venv, node_modules).
    `files` is the run's walk of the repository, when it has one."""
    if files is not None and is_walkable([*globs, *environment_globs]):
        if globs:
            return files.matching(globs)
        environments = set(files.matching_names(environment_globs))
        others = sorted(
            (f for f in files.yaml_files() if f not in environments and not f"{f}/".startswith(_NEVER)),
            key=walk_order,
        )
        return [p for p in (files.root / f for f in others) if confined(p, root, files) and _mentions(p)]
    if globs:
        return sorted({p for g in globs for p in root.glob(g) if p.is_file()})
    resolved = {p.resolve() for g in environment_globs for p in root.glob(g)}
    found = (p for p in yaml_files_under(root) if not f"{p.relative_to(root).as_posix()}/".startswith(_NEVER))
    return [p for p in found if p.resolve() not in resolved and confined(p, root, None) and _mentions(p)]


def _mentions(path: Path) -> bool:
    try:
        return _TOP_LEVEL_ENVIRONMENT.search(path.read_text(encoding="utf-8", errors="replace")) is not None
    except OSError:
        return False


def load_references(root: Path, paths: Iterable[Path], *, scanned: bool = False) -> Found:
    """Every reference in `paths`. A file that is no YAML (a template, often) or a templated
    reference is a warning on that file: it never blocks the environments' plan; a reference
    envsync can read but az ml would not is an error at its line. `scanned`: the files are the
    default scan's guesses, so one whose `$schema` names no job, deployment or component schema
    is skipped."""
    references: list[Reference] = []
    problems: list[Problem] = []
    for path in paths:
        shown = _relative(path, root)
        if not confined(path, root, None):  # never read: it may be the runner's token cache
            problems.append(Problem(shown, 1, 1, OUTSIDE))
            continue
        try:
            doc = load_yaml(path, display=shown)
        except YamlError as e:
            problems.append(_unreadable(e, path))
            continue
        if scanned and not _names_a_job(doc.data):
            continue
        for found, key in references_in(doc):
            if isinstance(found, Problem):
                problems.append(_templated_warns(found))
                continue
            references.append(found)
            if found.target.kind is Kind.INLINE:
                problems += load_inline(doc, key, root=root)
    return Found(tuple(references), tuple(problems))


def _unreadable(e: YamlError, path: Path) -> Problem:
    """A job that is no YAML (a template, mostly) is a warning: the environments' plan goes on.
    One past a parser bound (size, depth, aliases), unreadable or not UTF-8 stays an error."""
    if not e.reason.startswith("invalid YAML"):
        return Problem(e.path, e.line, e.col, e.reason)
    reason = f"{_yaml_reason(e, path)}; its environment reference is not checked"
    return Problem(e.path, e.line, e.col, reason, Severity.WARNING)


def _templated_warns(problem: Problem) -> Problem:
    """A reference with a placeholder (`azureml:{{ENV}}:1`) is a template CI fills in: a warning
    on its line. Any other reference az ml would not read stays an error."""
    if not is_templated(problem.message):
        return problem
    return replace(problem, severity=Severity.WARNING, message=f"{problem.message}; not checked")


def _names_a_job(data: Any) -> bool:
    """Whether a YAML is a job, deployment or component by its `$schema` (none: maybe)."""
    schema = data.get("$schema") if isinstance(data, dict) else None
    if not isinstance(schema, str):
        return True
    return _JOB_SCHEMA.search(schema.split("?", 1)[0].split("#", 1)[0].rstrip("/")) is not None


def _yaml_reason(e: YamlError, path: Path) -> str:
    # Deployments are often templated by CI (`version: {{MODEL_VERSION}}`): say so.
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return e.reason
    line = lines[e.line - 1] if 0 < e.line <= len(lines) else ""
    return f"{e.reason} ({TEMPLATE_HINT})" if is_templated(line) else e.reason


def reference_in(doc: YamlDocument) -> Reference | Problem | None:
    """The reference a loaded job or deployment holds at its top, a problem, or None."""
    if not isinstance(doc.data, dict) or "environment" not in doc.data:
        return None
    return _reference_at(doc, ("environment",), doc.data["environment"])


def references_in(doc: YamlDocument) -> list[tuple[Reference | Problem, Key]]:
    """Every reference of a job, deployment or component (with the key it is at): its own,
    and each pipeline step's (`jobs.<step>.environment`, nested pipelines too), each checked
    by the same rules at its own line."""
    found: list[tuple[Reference | Problem, Key]] = []
    top = reference_in(doc)
    if top is not None:
        found.append((top, ("environment",)))
    for key, step in step_environments(doc.data):
        found.append((_reference_at(doc, key, _value_at(doc.data, key), step), key))
    return found


def _reference_at(doc: YamlDocument, key: Key, value: Any, step: str = "") -> Reference | Problem:
    line, col = doc.where(key)
    named = f"jobs.{step}: " if step else ""
    if isinstance(value, dict):
        return Reference(doc.path, line, col, "(inline environment)", Target(Kind.INLINE), value, step)
    if not isinstance(value, str):
        return Problem(doc.path, line, col, f"{named}environment: expected a reference string or a mapping")
    try:
        return Reference(doc.path, line, col, value.strip(), parse_reference(value), step=step)
    except BadReference as e:
        return Problem(doc.path, line, col, f"{named}{e}")


def _value_at(data: Any, key: Key) -> Any:
    for part in key:
        data = data[part]
    return data


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def scan(
    root: Path, globs: Sequence[str], environment_globs: Sequence[str], files: RepoFiles | None = None
) -> Found:
    """Find and load every job and deployment reference of a repository."""
    return load_references(root, reference_files(root, globs, environment_globs, files), scanned=not globs)
