"""One environment file's outcome, and its round trip through the validation cache as JSON.

Paths are stored relative to the repository root and rebuilt against the root of the run
that reads them, so a moved checkout still hits. Only plain YAML values (mappings with string
keys, lists, strings, finite numbers, booleans, null) are stored: anything else (a YAML date,
a binary) is not cacheable and that file is loaded afresh each time.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from envsync.spec.model import BuildSpec, EnvironmentSpec
from envsync.spec.problems import Problem, Severity, Suppressed, Verdict


@dataclass(frozen=True)
class Loaded:
    """One file's outcome, plus what `load_all` needs even when the file is invalid."""

    spec: EnvironmentSpec | None
    problems: tuple[Problem, ...]
    identity: tuple[str, str | None] | None = None  # (name, version) as written
    at: tuple[int, int] = (1, 1)  # of the name
    inputs: tuple[Path, ...] = ()  # conda file and local build context it names


_PROBLEM_FIELDS = tuple(f.name for f in fields(Problem))
# A spec is stored as a list in this order (shorter to store and faster to parse than a mapping).
_SPEC_FIELDS = (
    *("name", "version", "description", "tags", "image", "conda", "os_type", "inference_config"),
    *("line", "datastore"),
)


# Everything a stored result is rebuilt from. A field added to these classes without being
# stored here would come back from the cache empty (a policy verdict, say): until this module
# learns it, nothing is stored at all.
_KNOWN = {
    EnvironmentSpec: {*_SPEC_FIELDS, "source", "conda_source", "build", "policy"},
    Verdict: {"problems", "suppressed"},
    Suppressed: {"problem", "reason"},
    Loaded: {"spec", "problems", "identity", "at", "inputs"},
    BuildSpec: {"path", "dockerfile_path", "digest", "aliases"},
}
STORABLE = all({f.name for f in fields(cls)} == known for cls, known in _KNOWN.items())


def to_doc(loaded: Loaded, root: str) -> list[Any] | None:
    """`loaded` as JSON-ready values; None when it holds values JSON cannot carry exactly."""
    if not STORABLE:
        return None
    spec = loaded.spec
    doc = [
        None if spec is None else _spec_doc(spec, root),
        [_problem_doc(p) for p in loaded.problems],
        list(loaded.identity) if loaded.identity is not None else None,
        list(loaded.at),
        [relative(p, root) for p in loaded.inputs],
    ]
    return doc if _is_plain(doc) else None


def from_doc(doc: list[Any], root: str, source: Path) -> Loaded:
    """The inverse of `to_doc` for the file at `source`; raises KeyError, TypeError or
    ValueError (or IndexError) on a malformed doc."""
    spec, problems, identity, at, inputs = doc
    return _built(
        Loaded,
        spec=None if spec is None else _spec(spec, root, source),
        problems=tuple(_problem(values) for values in problems) if problems else (),
        identity=(str(identity[0]), identity[1]) if identity is not None else None,
        at=(int(at[0]), int(at[1])),
        inputs=tuple(absolute(p, root) for p in inputs) if inputs else (),
    )


def _spec_doc(spec: EnvironmentSpec, root: str) -> list[Any]:
    build = spec.build
    where = None
    if build is not None:
        path = build.path if build.remote else relative(Path(build.path), root)
        where = [path, build.dockerfile_path, build.digest, list(build.aliases)]
    return [
        *(getattr(spec, f) for f in _SPEC_FIELDS),
        relative(spec.source, root),
        relative(spec.conda_source, root) if spec.conda_source else None,
        where,
        spec.fingerprint,
        {key: _verdict_doc(verdict) for key, verdict in spec.policy.items()},
    ]


def _spec(doc: list[Any], root: str, source: Path) -> EnvironmentSpec:
    *values, source_rel, conda_rel, where, fingerprint, policy = doc
    given = dict(zip(_SPEC_FIELDS, values, strict=True))
    build = None
    if where is not None:
        path, dockerfile, digest, aliases = where
        build = BuildSpec(
            path if digest is None else str(absolute(path, root)), dockerfile, digest, tuple(aliases)
        )
    if f"{root}/{source_rel}" != str(source):
        source = absolute(source_rel, root)
    return _built(
        EnvironmentSpec,
        **given,
        source=source,
        conda_source=absolute(conda_rel, root) if conda_rel else None,
        build=build,
        policy={key: _verdict(found) for key, found in policy.items()} if policy else {},
        fingerprint=str(fingerprint),  # the cached_property, already known
    )


T = TypeVar("T")


def _built(cls: type[T], **values: Any) -> T:
    """A frozen dataclass instance from all its field values (the cache's hot path: a frozen
    dataclass's __init__ sets each field through object.__setattr__, 10,000 times a plan)."""
    made = object.__new__(cls)
    made.__dict__.update(values)
    return made


def _problem_doc(problem: Problem) -> list[Any]:
    return [_plain_field(getattr(problem, f)) for f in _PROBLEM_FIELDS]


def _verdict_doc(verdict: Verdict) -> list[Any]:
    suppressed = [[_problem_doc(s.problem), s.reason] for s in verdict.suppressed]
    return [[_problem_doc(p) for p in verdict.problems], suppressed]


def _verdict(doc: list[Any]) -> Verdict:
    problems, suppressed = doc
    return Verdict(
        tuple(_problem(p) for p in problems),
        tuple(Suppressed(_problem(p), str(reason)) for p, reason in suppressed),
    )


def _problem(values: list[Any]) -> Problem:
    given = dict(zip(_PROBLEM_FIELDS, values, strict=True))
    given["severity"] = Severity(given["severity"])
    return Problem(**given)


def _plain_field(value: Any) -> Any:
    return value.value if isinstance(value, Severity) else value


def relative(path: Path, root: str) -> str:
    text = str(path)
    if text.startswith(root + os.sep):
        return text[len(root) + 1 :]
    return os.path.relpath(text, root)


def absolute(rel: str, root: str) -> Path:
    if rel.startswith(".."):
        return Path(os.path.normpath(os.path.join(root, rel)))
    return Path(f"{root}/{rel}")


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False
