"""Every environment YAML of a repository → validated specs.

`load_all` loads (`spec.document`) every file the config names, through the validation cache
when it has one, and adds the cross-file rules: one file per (name, version), and a file another
environment uses (its conda file, a file of its build context) is not an environment itself.
Every problem of every file is reported in one run; only `load_valid` raises.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from envsync.errors import SpecError
from envsync.spec.document import (
    ANONYMOUS_NAME,
    Policies,
    absolute,
    display,
    load_file,
    load_inline,
    load_spec,
)
from envsync.spec.given import dangling_found, path_problems
from envsync.spec.loaded import Loaded
from envsync.spec.model import BuildSpec, EnvironmentSpec
from envsync.spec.policy.engine import collected
from envsync.spec.problems import Problem, Severity, Suppressed, Verdict
from envsync.spec.solving import LOCK_SUFFIX

CONFIG_FILE = "envsync.yaml"  # envsync.config's name for it (config imports spec, not back)

if TYPE_CHECKING:
    from envsync.config import Config
    from envsync.spec.cache import SpecCache
    from envsync.spec.files import RepoFiles

__all__ = [
    "ANONYMOUS_NAME",
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


@dataclass(frozen=True)
class LoadResult:
    """The environments of a repository, and every problem found loading them (sorted)."""

    specs: tuple[EnvironmentSpec, ...] = ()
    problems: tuple[Problem, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()  # policy findings an inline comment allows
    checked: tuple[str, ...] = ()  # environment files checked (not other environments' inputs)

    @property
    def files(self) -> int:
        """Files checked: the environment files, and any other file a problem was found in."""
        return len({*self.checked, *(p.path for p in self.problems)})

    def with_policy(self, key: str) -> LoadResult:
        """Plus what policy `key` ("" for the top level, else a target) found in the specs."""
        found = collected(self.specs, key)
        if self.problems or self.suppressed:  # else `found` is the whole answer, sorted already
            found = found + Verdict(self.problems, self.suppressed)
        return replace(self, problems=found.problems, suppressed=found.suppressed)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.WARNING)


def find_spec_files(config: Config, paths: Sequence[Path] = (), files: RepoFiles | None = None) -> list[Path]:
    """Candidate environment YAMLs, sorted: the config's globs, or the given files and folders.

    Relative `paths` are relative to the repository root. A folder contributes its *.yml and
    *.yaml files, recursively; a named file is taken as is (a missing one is reported on load).
    `files` is the run's walk of the repository, which answers the globs without globbing.
    """
    from envsync.spec.files import is_walkable

    root = absolute(config.root)
    if not paths:
        if files is not None and is_walkable(config.environments):
            return _environments(files.matching(config.environments, without=LOCK_SUFFIX), root)
        globbed = _unique(p for pattern in config.environments for p in root.glob(pattern) if p.is_file())
        return _environments(_not_locks(globbed), root)
    found: list[Path] = []
    for path in given_paths(config, paths):
        if path.is_dir():
            found += [p for ext in ("yml", "yaml") for p in path.glob(f"**/*.{ext}") if p.is_file()]
        elif not (path.is_symlink() and not path.exists()):  # dangling: `path_problems` says so
            found.append(path)
    return _not_locks(_unique(found))


def _not_locks(paths: list[Path]) -> list[Path]:
    """Without the lock files `envsync solve --lock` writes beside the YAMLs they pin."""
    return [p for p in paths if not p.name.endswith(LOCK_SUFFIX)]


def given_paths(config: Config, paths: Sequence[Path]) -> list[Path]:
    root = absolute(config.root)
    return [absolute(p if p.is_absolute() else root / p) for p in paths]


def _environments(paths: list[Path], root: Path) -> list[Path]:
    """Without what is never an environment, whatever a glob says: envsync.yaml itself, and the
    CI files under .github/ (`environments: ["**/*.yml"]` matches both)."""
    never = (f"{root}/{CONFIG_FILE}", f"{root}/.github/")
    return [p for p in paths if not str(p).startswith(never)]


def unmatched_globs(config: Config, found: Sequence[Path]) -> list[Problem]:
    """An error when the `environments` globs envsync.yaml writes match no file at all: a typo
    or a moved folder, which would leave git defining nothing and make every environment an
    orphan. (Several globs of which one matches nothing, say `*.yaml` beside `*.yml`, are fine.)"""
    written = [g for g in config.written_globs if g.target is None]
    if found or not written:
        return []
    shown = ", ".join(f"'{g.pattern}'" for g in written)
    message = f"environments: {shown} match{'es' * (len(written) == 1)} no file; {_FIX}"
    return [Problem(CONFIG_FILE, written[0].line, written[0].col, message)]


def target_glob_problems(config: Config, target: str, files: RepoFiles | None = None) -> list[Problem]:
    """The same for a target's `environments`: an error when they match none of the files the
    top-level globs find (that target's plan would define nothing)."""
    from dataclasses import replace as changed

    written = [g for g in config.written_globs if g.target == target]
    if not written:
        return []
    known = set(find_spec_files(config, (), files))
    picked = set(find_spec_files(changed(config, environments=tuple(g.pattern for g in written)), (), files))
    if picked & known:
        return []
    shown = ", ".join(f"'{g.pattern}'" for g in written)
    verb = "matches" if len(written) == 1 else "match"
    message = f"targets.{target}.environments: {shown} {verb} none of the environment files; {_FIX}"
    return [Problem(CONFIG_FILE, written[0].line, written[0].col, message)]


_FIX = "fix the globs (a prune would archive every environment they used to find)"


def load_all(
    config: Config,
    paths: Sequence[Path] = (),
    *,
    cache: SpecCache | None = None,
    files: RepoFiles | None = None,
) -> LoadResult:
    """Load every environment YAML; files that other environments use as inputs are skipped.

    A conda file or a file inside another environment's build context matches the globs
    (`environments/**/*.yml`) but is that environment's input, not an environment. With a
    `cache`, a file whose content and inputs are unchanged since a run that loaded it costs a
    lookup; its result (problems included) is the one that run found.
    """
    root = absolute(config.root)
    policies = config.policies
    candidates = find_spec_files(config, paths, files)
    found, outside = _confined(candidates, root, files)
    loaded = {p: _cached_load(p, root, policies, cache) for p in found}
    if cache is not None:
        cache.flush()
    inputs = _inputs(loaded)
    kept = {p: one for p, one in loaded.items() if p not in inputs}
    problems = {p for one in kept.values() for p in one.problems} | {*_duplicates(kept, root), *outside}
    problems |= set(_path_problems(config, paths, candidates, files))
    if not paths:
        problems |= set(unmatched_globs(config, found))
    specs = tuple(one.spec for one in kept.values() if one.spec is not None)
    checked = tuple(display(p, root) for p in kept)
    return LoadResult(specs=specs, problems=tuple(sorted(problems)), checked=checked)


def _path_problems(
    config: Config, paths: Sequence[Path], found: Sequence[Path], files: RepoFiles | None
) -> list[Problem]:
    root = absolute(config.root)
    shown = partial(display, root=root)
    if paths:
        return path_problems(given_paths(config, paths), found, shown)
    if files is None:
        return []
    return [dangling_found(p, shown) for p in files.dangling_matching(config.environments)]


def _confined(paths: list[Path], root: Path, files: RepoFiles | None) -> tuple[list[Path], list[Problem]]:
    """The environment files inside the repository, and a problem for each one that resolves
    outside it (a committed symlink out, a path given beyond the root), which is never read."""
    from envsync.spec.files import OUTSIDE, confined

    kept: list[Path] = []
    outside: list[Problem] = []
    for path in paths:
        if confined(path, root, files):
            kept.append(path)
        else:
            outside.append(Problem(display(path, root), 1, 1, OUTSIDE))
    return kept, outside


def _cached_load(path: Path, root: Path, policies: Policies, cache: SpecCache | None) -> Loaded:
    if cache is None:
        return load_file(path, root=root, text=None, read_file=None, policies=policies)
    found = cache.lookup(path)
    if found is None:
        from envsync.content.context import context_digests

        found = load_file(
            path,
            root=root,
            text=None,
            read_file=None,
            policies=policies,
            digests=lambda d: cache.digests(d, context_digests),
        )
        cache.remember(path, found)
    return found


def _inputs(loaded: Mapping[Path, Loaded]) -> set[Path]:
    """The loaded files that another environment uses: its conda file, or inside its context."""
    owners: defaultdict[str, set[Path]] = defaultdict(set)
    for owner, one in loaded.items():
        for used in one.inputs:
            owners[str(used)].add(owner)
    if not owners:
        return set()
    # A file can only be an ancestor as a folder, so walking the parents finds contexts.
    return {p for p in loaded if any(owners.get(q, set()) - {p} for q in _self_and_parents(str(p)))}


def _self_and_parents(path: str) -> Iterator[str]:
    while True:
        yield path
        parent = os.path.dirname(path)
        if parent == path:
            return
        path = parent


def _duplicates(loaded: Mapping[Path, Loaded], root: Path) -> list[Problem]:
    groups: defaultdict[tuple[str, str | None], list[Path]] = defaultdict(list)
    for path, one in loaded.items():
        if one.identity is not None:
            groups[one.identity].append(path)
    found = []
    for (name, version), paths in groups.items():
        what = f"version '{version}'" if version is not None else "without a version"
        for path in paths if len(paths) > 1 else ():
            others = ", ".join(display(p, root) for p in paths if p != path)
            line, col = loaded[path].at
            message = f"environment '{name}' {what} is also defined in {others}"
            found.append(Problem(display(path, root), line, col, message))
    return found


def _unique(paths: Iterable[Path]) -> list[Path]:
    return sorted({absolute(p) for p in paths}, key=lambda p: p.as_posix())


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
