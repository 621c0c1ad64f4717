"""One environment's conda spec → what to ask the solvers, and where each pin was written (the
YAML is read again only to locate a problem: a remembered solvable answer needs no line)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from envsync.solve.platform import Platform, platform_of
from envsync.spec.conda import pip_name
from envsync.spec.model import EnvironmentSpec
from envsync.spec.policy import conda as conda_rules
from envsync.spec.policy.pip import pip_lines
from envsync.spec.policy.subject import display
from envsync.spec.problems import Problem
from envsync.spec.solving import NODEFAULTS, SolveSettings
from envsync.spec.yamlio import Key, YamlDocument, load_yaml

FORMAT = "1"  # of a cached answer: bump when what a solve returns changes
_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")  # no ./ or ../


@dataclass(frozen=True)
class Pin:
    """One requested package as written: `numpy=1.26` (conda) or `requests==2.32.3` (pip)."""

    text: str
    name: str  # conda's name, or "pip:" + pip's normalised name
    key: Key  # inside the conda spec: ("dependencies", 2) or ("dependencies", 3, "pip", 0)


class Locator:
    """Where the values of one conda spec were written: its YAML file (the environment's, under
    `conda_file:`, or the conda file it names), read on first use."""

    def __init__(self, source: Path, root: Path, base: Key):
        self.source, self.root, self.base = source, root, base

    @cached_property
    def doc(self) -> YamlDocument:
        return load_yaml(self.source, display=display(self.source, self.root))

    def at(self, key: Key) -> tuple[str, int, int]:
        """(path as shown, line, col) of the value at `key` inside the conda spec."""
        line, col = self.doc.where((*self.base, *key))
        return self.doc.path, line, col


@dataclass(frozen=True)
class Request:
    name: str
    path: str  # the environment YAML, as shown
    line: int
    platform: Platform
    channels: tuple[str, ...]  # URLs, in the spec's order of priority
    conda: tuple[Pin, ...]
    pip: tuple[Pin, ...]
    notes: tuple[str, ...]  # requirements no solve can check, said once
    problems: tuple[Problem, ...]  # found before solving (a channel no image build can reach)
    where: Locator
    key: str  # of the cached answer: the spec's fingerprint and the settings

    @property
    def requested(self) -> tuple[str, ...]:
        return tuple(p.name for p in (*self.conda, *self.pip))


def requests(
    specs: Sequence[EnvironmentSpec], settings: SolveSettings, root: Path
) -> tuple[list[Request], list[EnvironmentSpec]]:
    """A request per spec with a conda spec, and the specs without one (nothing to solve)."""
    solvable = [s for s in specs if isinstance(s.conda, dict)]
    return [request(s, settings, root) for s in solvable], [s for s in specs if not isinstance(s.conda, dict)]


def request(spec: EnvironmentSpec, settings: SolveSettings, root: Path) -> Request:
    where = _locator(spec, root)
    conda, pip, notes = _pins(spec.conda)
    channels, problems = _channels(spec.conda, where, settings)
    key = hashlib.sha256(f"{FORMAT}:{spec.fingerprint}:{settings.digest}".encode()).hexdigest()[:32]
    return Request(
        name=spec.name,
        path=_shown(spec.source, root),
        line=spec.line,
        platform=platform_of(spec.image, spec.os_type),
        channels=channels,
        conda=conda,
        pip=pip,
        notes=notes,
        problems=problems,
        where=where,
        key=key,
    )


def _shown(path: Path, root: Path) -> str:
    """`display`, by string slicing when `path` is under `root` (loading made both absolute):
    a plan with the solvable rule makes one per environment."""
    text, base = str(path), str(root).rstrip(os.sep) + os.sep
    if os.sep == "/" and text.startswith(base):
        return text[len(base) :]
    return display(path, root)


def _locator(spec: EnvironmentSpec, root: Path) -> Locator:
    if spec.conda_source is not None:
        return Locator(spec.conda_source, root, ())
    return Locator(spec.source, root, ("conda_file",))


def _pins(conda: dict[str, Any]) -> tuple[tuple[Pin, ...], tuple[Pin, ...], tuple[str, ...]]:
    deps = conda.get("dependencies") or []
    conda_pins = [
        Pin(text.strip(), _conda_name(text), ("dependencies", i))
        for i, text in enumerate(deps)
        if isinstance(text, str)
    ]
    pip_pins, notes = [], []
    for key, text in pip_lines(conda):
        if _checkable(text):
            pip_pins.append(Pin(text.split(" #")[0].strip(), f"pip:{pip_name(text)}", key))
        else:
            shown = text.strip()
            notes.append(f"pip: {shown!r} not checked (options, paths and URLs are the image build's)")
    return tuple(conda_pins), tuple(pip_pins), tuple(notes)


def _conda_name(text: str) -> str:
    parsed = conda_rules.parse(text)
    return parsed[1] if parsed else text.strip().lower()


def _checkable(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and not stripped.startswith(("-", ".", "/", "~")) and "://" not in stripped


def _channels(
    conda: dict[str, Any], where: Locator, settings: SolveSettings
) -> tuple[tuple[str, ...], tuple[Problem, ...]]:
    """The channels' URLs: the spec's (with `conda-forge::numpy`'s channel last), else the
    defaults. A local path or file:// URL is a problem: no image build can read it."""
    listed = [c for c in conda.get("channels") or [] if isinstance(c, str)]
    problems = tuple(_local_channel(where, ("channels", i), c) for i, c in enumerate(listed) if _local(c))
    prefixed = [
        p[0] for d in conda.get("dependencies") or [] if isinstance(d, str) and (p := conda_rules.parse(d))
    ]
    named = [c for c in listed if not _local(c)] + [c for c in prefixed if c and not _local(c)]
    urls = dict.fromkeys(u for c in named for u in settings.channel_urls(c))
    if not urls and not problems and NODEFAULTS not in listed:
        return settings.default_channels, ()
    return tuple(urls), problems


def _local(channel: str) -> bool:
    return not (channel.startswith(("http://", "https://")) or _CHANNEL_NAME.match(channel))


def _local_channel(where: Locator, key: Key, channel: str) -> Problem:
    reason = "an image build cannot read it (name a channel, or an http(s) URL)"
    return Problem(*where.at(key), f"channel {channel!r} is a local path: {reason}")
