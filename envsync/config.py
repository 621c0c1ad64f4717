"""envsync.yaml → Config: where environments live, which workspaces and registries to target,
what to ignore."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeVar

from envsync.errors import ConfigError
from envsync.spec.globs import SourcedGlob, written_globs
from envsync.spec.policy.settings import DEFAULT_POLICY, Policy, tightened, top_level
from envsync.spec.schemas import in_words, validator
from envsync.spec.solving import SolveSettings, solve_settings
from envsync.spec.yamlio import MAX_BYTES, Key, YamlDocument, YamlError, load_yaml

CONFIG_FILE = "envsync.yaml"
DEFAULT_GLOBS = ("environments/**/*.yml", "environments/**/*.yaml")
DEFAULT_DB = ".envsync/workspace.db"
LOCAL = "local"
AZUREML = "azureml"
REGISTRY = "registry"


class _Sourced(Protocol):
    @property
    def source(self) -> Path: ...


S = TypeVar("S", bound=_Sourced)


@dataclass(frozen=True)
class Target:
    name: str
    kind: str  # LOCAL | AZUREML (a workspace over ARM) | REGISTRY (an Azure ML registry over ARM)
    path: Path | None = None  # local: the SQLite file
    subscription_id: str = ""
    resource_group: str = ""
    workspace: str = ""
    registry: str = ""
    endpoint: str | None = None  # ARM endpoint override (the emulator, sovereign clouds)
    api_version: str | None = None
    environments: tuple[str, ...] | None = None  # this target's share of the environments (globs)
    operation_timeout: float | None = None  # registry: seconds to wait for one operation

    @property
    def arm_id(self) -> str:
        parent = f"registries/{self.registry}" if self.kind == REGISTRY else f"workspaces/{self.workspace}"
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.MachineLearningServices/{parent}"
        )

    def describe(self) -> str:
        return f"{self.name} ({self.path})" if self.kind == LOCAL else f"{self.name} ({self.arm_id})"


@dataclass(frozen=True)
class Config:
    root: Path
    environments: tuple[str, ...] = DEFAULT_GLOBS
    references: tuple[str, ...] = ()
    targets: Mapping[str, Target] = field(default_factory=dict)
    default_target: str = LOCAL
    concurrency: int = 8
    ignore_tags: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()
    protected: frozenset[str] = frozenset()
    max_prune_share: float = 1.0  # apply --prune refuses to archive more than this share
    written_globs: tuple[SourcedGlob, ...] = ()  # the environments globs envsync.yaml writes
    source: Path | None = None
    # The top level's policy under "", and each target's (tightened) under its name.
    policies: Mapping[str, Policy] = field(default_factory=lambda: {"": DEFAULT_POLICY})
    solve: SolveSettings = field(default_factory=SolveSettings)  # channels and indexes the solver uses

    def policy(self, target: str | None = None) -> Policy:
        """`target`'s policy; the top level's for None or a target without its own."""
        return self.policies[self.policy_key(target)]

    def policy_key(self, target: str | None) -> str:
        """The key of `target`'s policy in `policies` (and in each spec's verdicts): its name,
        or "" for the top level's (None, or a target without a policy section of its own)."""
        if target is not None:
            self.target(target)  # an unknown name is an error, not the top level's policy
        return target if target is not None and target in self.policies else ""

    def target_names(self) -> list[str]:
        """The targets `--all-targets` covers: the configured ones, else the local workspace."""
        declared = [n for n in self.targets if n != LOCAL or len(self.targets) == 1]
        return declared or [LOCAL]

    def specs_for(self, target: Target, specs: Sequence[S], root: Path | None = None) -> tuple[S, ...]:
        """`target`'s share of `specs` (loaded under `root`, default the repository's): those
        its `environments` globs match, or all of them when it names none (a registry fed
        from the same environments/ as the workspaces, or a subset of them)."""
        if target.environments is None:
            return tuple(specs)
        base = root or self.root
        chosen = {p.resolve() for g in target.environments for p in base.glob(g)}
        return tuple(s for s in specs if s.source.resolve() in chosen)

    def target(self, name: str | None) -> Target:
        chosen = name or os.environ.get("ENVSYNC_TARGET") or self.default_target
        if chosen not in self.targets:
            known = ", ".join(sorted(self.targets))
            raise ConfigError(f"unknown target '{chosen}' (configured: {known})")
        return self.targets[chosen]


def load(root: Path, *, cache: bool = True) -> Config:
    """Read `root/envsync.yaml` if there is one (every field has a default); `cache`: remember it passed."""
    path = root / CONFIG_FILE
    if not path.exists():
        local = _local(root, DEFAULT_DB)
        _check_local_path(root, local, f"target {LOCAL}")
        return Config(root=root, targets={LOCAL: local})
    try:
        with path.open("rb") as f:  # capped: load_yaml words the error for a larger file
            text: bytes | None = f.read(MAX_BYTES + 1)
        source: str | None = text.decode("utf-8-sig") if text is not None else None
    except (OSError, UnicodeDecodeError):
        text = source = None  # load_yaml reads it again and words the error
    try:
        doc = load_yaml(path, display=CONFIG_FILE, text=source)
    except YamlError as e:
        raise ConfigError(str(e)) from None
    raw = {} if doc.data is None else doc.data
    if not isinstance(raw, dict):
        raise ConfigError(f"{CONFIG_FILE}:1:1: the config must be a mapping")
    _validate(root, text if cache else None, raw, doc)
    return _build(root, raw, path, doc)


def _validate(root: Path, text: bytes | None, raw: dict[str, Any], doc: YamlDocument) -> None:
    # The validation cache remembers a config that passed: the schema check (and importing
    # jsonschema for it) is most of what loading the config costs. No text: no cache.
    from envsync.spec import cache

    if text is not None and cache.known_valid(root, CONFIG_FILE, text):
        return
    errors = sorted(validator("config").iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        path_to: Key = tuple(err.absolute_path)
        where = ".".join(str(p) for p in path_to) or "(top level)"
        line, col = doc.where(path_to)
        message = in_words(err)
        unexpected = _unexpected(err)
        if unexpected is not None:  # point at the key itself, and say what it might have meant
            line, col = doc.key_where((*path_to, unexpected))
            message = _unknown_key(unexpected, err.schema.get("properties", {}))
        raise ConfigError(f"{CONFIG_FILE}:{line}:{col}: {where}: {message}")
    if text is not None:
        cache.remember_valid(root, CONFIG_FILE, text)


def _unexpected(error: Any) -> str | None:
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return None
    known = error.schema.get("properties", {})
    return next((str(k) for k in error.instance if k not in known), None)


def _unknown_key(key: str, known: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f"unknown key '{key}'" + (f" (did you mean '{close[0]}'?)" if close else "")


def _policies(raw: dict[str, Any], doc: YamlDocument) -> dict[str, Policy]:
    """The top level's policy, and each target's tightened by its own `policy:`."""
    base = top_level(raw.get("policy"))
    found = {"": base}
    for name, t in (raw.get("targets") or {}).items():
        section: Key = ("targets", name, "policy")

        def fail(key: Key, reason: str, section: Key = section) -> NoReturn:
            line, col = doc.where((*section, *key))
            shown = ".".join(str(p) for p in (*section, *key))
            raise ConfigError(
                f"{CONFIG_FILE}:{line}:{col}: {shown}: {reason}; a target's policy can only tighten "
                "the top-level policy"
            )

        found[name] = tightened(base, t.get("policy"), fail)
    return found


def _build(root: Path, raw: dict, path: Path, doc: YamlDocument) -> Config:  # type: ignore[type-arg]
    targets = {LOCAL: _local(root, DEFAULT_DB)}
    _check_local_path(root, targets[LOCAL], f"target {LOCAL}")
    for name, t in (raw.get("targets") or {}).items():
        _check_endpoint(t.get("endpoint"), ("targets", name, "endpoint"), doc)
        _check_globs(t.get("environments"), ("targets", name, "environments"), doc)
        targets[name] = _target(root, name, t)
        line, col = doc.where(("targets", name, "path") if "path" in t else ("targets", name))
        _check_local_path(root, targets[name], f"{CONFIG_FILE}:{line}:{col}: targets.{name}")
    for key in ("environments", "references"):
        _check_globs(raw.get(key), (key,), doc)
    default = raw.get("default_target", LOCAL)
    if default not in targets:
        raise ConfigError(f"{CONFIG_FILE}: default_target '{default}' is not a configured target")
    return Config(
        root=root,
        environments=_globs(raw.get("environments"), DEFAULT_GLOBS),
        references=_globs(raw.get("references"), ()),
        targets=targets,
        default_target=default,
        concurrency=raw.get("concurrency", 8),
        ignore_tags=frozenset(raw.get("ignore_tags", ())),
        exclude=frozenset(raw.get("exclude", ())),
        protected=frozenset(raw.get("protected", ())),
        max_prune_share=raw.get("max_prune_share", 1.0),
        written_globs=written_globs(raw, doc),
        source=path,
        policies=_policies(raw, doc),
        solve=solve_settings(raw.get("solve")),
    )


def _check_endpoint(endpoint: str | None, key: Key, doc: YamlDocument) -> None:
    """A repository may point its token only at an Azure cloud's ARM or at loopback: elsewhere,
    the runner's environment decides (ENVSYNC_ARM_ENDPOINT), not a pull request."""
    from envsync.http.clouds import ARM_ENDPOINTS, may_come_from_a_file
    from envsync.http.redact import redact_url

    if endpoint is None or may_come_from_a_file(endpoint):
        return
    line, col = doc.where(key)
    where = f"{CONFIG_FILE}:{line}:{col}: {'.'.join(map(str, key))}"
    raise ConfigError(
        f"{where}: '{redact_url(endpoint)}' is neither an Azure cloud's ARM endpoint "
        f"({', '.join(ARM_ENDPOINTS)}) nor loopback; set any other endpoint in the runner's "
        "environment as ENVSYNC_ARM_ENDPOINT"
    )


def _check_globs(value: str | list[str] | None, key: Key, doc: YamlDocument) -> None:
    """Globs are relative to the repository root and stay in it: no absolute path, no `..`."""
    from envsync.spec.files import is_walkable

    for i, glob in enumerate(_globs(value, ())):
        if not is_walkable([glob]):
            line, col = doc.where((*key, i) if isinstance(value, list) else key)
            raise ConfigError(
                f"{CONFIG_FILE}:{line}:{col}: {'.'.join(map(str, key))}: glob '{glob}' leaves the "
                "repository: write it relative to the repository root, without '..'"
            )


def _check_local_path(root: Path, target: Target, where: str) -> None:
    """A local target's SQLite file is written inside the repository, a committed `.envsync`
    symlink notwithstanding (ENVSYNC_DB, the runner's word, may name any place)."""
    from envsync.content.confine import inside

    from_env = target.name == LOCAL and bool(os.environ.get("ENVSYNC_DB"))
    if target.kind != LOCAL or target.path is None or from_env or inside(target.path, root):
        return
    shown = target.path.relative_to(root) if target.path.is_relative_to(root) else target.path
    raise ConfigError(
        f"{where}: '{shown}' resolves outside the repository (a symlink out of it?): a local "
        "target's file must be inside it (ENVSYNC_DB may name another place)"
    )


def _globs(value: str | list[str] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    return (value,) if isinstance(value, str) else tuple(value)


def _local(root: Path, path: str, name: str = LOCAL) -> Target:
    db = Path(os.environ.get("ENVSYNC_DB", path) if name == LOCAL else path)
    return Target(name=name, kind=LOCAL, path=db if db.is_absolute() else root / db)


def _target(root: Path, name: str, t: dict) -> Target:  # type: ignore[type-arg]
    if t["type"] == LOCAL:
        return replace(_local(root, t.get("path", DEFAULT_DB), name), environments=_subset(t))
    return Target(
        name=name,
        kind=t["type"],
        subscription_id=t["subscription_id"],
        resource_group=t["resource_group"],
        workspace=t.get("workspace", ""),
        registry=t.get("registry", ""),
        endpoint=t.get("endpoint"),
        api_version=t.get("api_version"),
        environments=_subset(t),
        operation_timeout=t.get("operation_timeout"),
    )


def _subset(t: dict) -> tuple[str, ...] | None:  # type: ignore[type-arg]
    value = t.get("environments")
    return None if value is None else _globs(value, ())
