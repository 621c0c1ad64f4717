"""envsync.yaml → Config: where environments live, which workspaces to target, what to ignore."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from envsync.errors import ConfigError
from envsync.spec.schemas import validator
from envsync.spec.yamlio import YamlError, load_yaml

CONFIG_FILE = "envsync.yaml"
DEFAULT_GLOBS = ("environments/**/*.yml", "environments/**/*.yaml")
DEFAULT_DB = ".envsync/workspace.db"
LOCAL = "local"


@dataclass(frozen=True)
class Target:
    name: str
    kind: str  # "local" | "azureml"
    path: Path | None = None  # local: the SQLite file
    subscription_id: str = ""
    resource_group: str = ""
    workspace: str = ""
    endpoint: str | None = None  # ARM endpoint override (the emulator, sovereign clouds)
    api_version: str | None = None

    @property
    def arm_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{self.workspace}"
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
    source: Path | None = None

    def target_names(self) -> list[str]:
        """The targets `--all-targets` covers: the configured ones, else the local workspace."""
        declared = [n for n in self.targets if n != LOCAL or len(self.targets) == 1]
        return declared or [LOCAL]

    def target(self, name: str | None) -> Target:
        chosen = name or os.environ.get("ENVSYNC_TARGET") or self.default_target
        if chosen not in self.targets:
            known = ", ".join(sorted(self.targets))
            raise ConfigError(f"unknown target '{chosen}' (configured: {known})")
        return self.targets[chosen]


def load(root: Path) -> Config:
    """Read `root/envsync.yaml` if there is one; every field has a default."""
    path = root / CONFIG_FILE
    if not path.exists():
        return Config(root=root, targets={LOCAL: _local(root, DEFAULT_DB)})
    try:
        doc = load_yaml(path, display=CONFIG_FILE)
    except YamlError as e:
        raise ConfigError(str(e)) from None
    raw = {} if doc.data is None else doc.data
    if not isinstance(raw, dict):
        raise ConfigError(f"{CONFIG_FILE}:1:1: the config must be a mapping")
    errors = sorted(validator("config").iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        line, col = doc.where(tuple(err.absolute_path))
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        raise ConfigError(f"{CONFIG_FILE}:{line}:{col}: {where}: {err.message}")
    return _build(root, raw, path)


def _build(root: Path, raw: dict, path: Path) -> Config:  # type: ignore[type-arg]
    targets = {LOCAL: _local(root, DEFAULT_DB)}
    for name, t in (raw.get("targets") or {}).items():
        targets[name] = _target(root, name, t)
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
        source=path,
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
        return _local(root, t.get("path", DEFAULT_DB), name)
    return Target(
        name=name,
        kind="azureml",
        subscription_id=t["subscription_id"],
        resource_group=t["resource_group"],
        workspace=t["workspace"],
        endpoint=t.get("endpoint"),
        api_version=t.get("api_version"),
    )
