"""envsync.yaml `solve:`: where the solver finds packages, as conda and pip name them.

Conda's own settings, with conda's meaning: a channel named NAME lives at
`custom_channels[NAME]/NAME`, else at `channel_alias/NAME`; `defaults` (or a spec naming no
channel) means `default_channels`. pip's index URL and extra index URLs, in pip's order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

DEFAULT_ALIAS = "https://conda.anaconda.org/"
DEFAULT_CHANNELS = ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")
DEFAULTS, NODEFAULTS = "defaults", "nodefaults"
SOLVABLE = "solvable"  # the policy rule that solves in plan (envsync.solve.policy)
# What `envsync solve --lock` writes beside an environment YAML: conda-lock's file name ending,
# which micromamba recognises too. Such a file is a lock, never an environment of its own.
LOCK_SUFFIX = ".conda-lock.yml"


@dataclass(frozen=True)
class SolveSettings:
    channel_alias: str = DEFAULT_ALIAS
    custom_channels: Mapping[str, str] = field(default_factory=dict)
    default_channels: tuple[str, ...] = DEFAULT_CHANNELS
    index_url: str | None = None  # None: uv's default (PyPI, or UV_INDEX_URL of the runner)
    extra_index_urls: tuple[str, ...] = ()
    build_sdists: bool = False
    timeout: float = 300.0

    def channel_urls(self, channel: str) -> tuple[str, ...]:
        """The URLs a spec's channel entry stands for: a URL as is, `defaults` its channels, a
        name under its custom channel or the alias; `nodefaults` none."""
        if channel == NODEFAULTS:
            return ()
        if channel == DEFAULTS:
            return self.default_channels
        if "://" in channel:
            return (channel.rstrip("/"),)
        base = self.custom_channels.get(channel) or self.channel_alias
        return (f"{base.rstrip('/')}/{channel}",)

    @cached_property
    def digest(self) -> str:
        """Equal for two settings under which every solve gives the same answer."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        doc = {**fields, "custom_channels": dict(self.custom_channels), "timeout": None}
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def solve_settings(raw: Any) -> SolveSettings:
    """The `solve:` section (already checked against the config schema) as settings."""
    if not isinstance(raw, dict):
        return SolveSettings()
    conda, pip = raw.get("conda") or {}, raw.get("pip") or {}
    return SolveSettings(
        channel_alias=conda.get("channel_alias", DEFAULT_ALIAS),
        custom_channels=dict(conda.get("custom_channels", {})),
        default_channels=tuple(conda.get("default_channels", DEFAULT_CHANNELS)),
        index_url=pip.get("index_url"),
        extra_index_urls=tuple(pip.get("extra_index_urls", ())),
        build_sdists=bool(pip.get("build_sdists", False)),
        timeout=float(raw.get("timeout", 300.0)),
    )
