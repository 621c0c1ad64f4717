"""conda rules: conda-unpinned, conda-channel-denied, python-version-required.

A conda package is pinned by `=version` (`numpy=1.26`, `numpy==1.26.4`, `numpy 1.26.4`,
`numpy=1.26.4=py311h...`); ranges and bare names are not. `defaults` in
`conda.denied_channels` covers Anaconda's channels under any of their names, and conda's
implicit use of them: conda appends its default channels to a spec's own unless the list has
`nodefaults`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from envsync.spec.policy.settings import Policy
from envsync.spec.policy.subject import Hit, Subject
from envsync.spec.yamlio import Key

UNPINNED, CHANNEL, PYTHON = "conda-unpinned", "conda-channel-denied", "python-version-required"
RULES = frozenset({UNPINNED, CHANNEL, PYTHON})
PARAMETERS: tuple[str, ...] = (
    "allow_unpinned",
    "denied_channels",
)  # the Policy fields its findings depend on
DEFAULTS = "defaults"
# Anaconda's repository under its other names: the defaults channels, and the `anaconda`
# channel on anaconda.org, which mirrors them under the same terms.
DEFAULTS_ALIASES = (
    "defaults",
    "main",
    "r",
    "msys2",
    "anaconda",
    "pkgs/*",
    "http*://repo.anaconda.com/*",
    "http*://conda.anaconda.org/anaconda",
)
Packages = Sequence[tuple[Key, str]]  # (key in the conda spec, match spec) of string dependencies
_SPEC = re.compile(r"^\s*(?:(?P<channel>[^\s:]+)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.-]*)(?P<rest>.*)$")
_EXACT = re.compile(r"^(?:==?\s*|\s+)[0-9][^<>!|,\s]*(?:[=\s]\S*)?\s*$")
_BRACKET_EXACT = re.compile(r"version\s*=\s*['\"]?(?:==?)?\s*[0-9][^<>!|,'\"]*['\"]?\s*[,\]]")


def check(subject: Subject, policy: Policy) -> Iterator[Hit]:
    conda = subject.conda
    if not isinstance(conda, dict) or not policy.any_on(RULES):
        return
    deps = conda.get("dependencies")
    listed = deps if isinstance(deps, list) else []
    strings: Packages = [(("dependencies", i), d) for i, d in enumerate(listed) if isinstance(d, str)]
    if policy.on(UNPINNED):
        yield from _unpinned(subject, strings, policy)
    if policy.on(CHANNEL) and policy.denied_channels:
        yield from _channels(subject, conda, strings, policy)
    if policy.on(PYTHON):
        yield from _python(subject, conda, strings)


@lru_cache(maxsize=4096)  # the same specs (python=3.11, pip) recur across environments
def parse(spec: str) -> tuple[str | None, str, str] | None:
    """(channel or None, lower-case name, the rest: version and build) of a conda match spec."""
    found = _SPEC.match(spec)
    if found is None:
        return None
    return found.group("channel"), found.group("name").lower(), found.group("rest").strip()


def pinned(rest: str) -> bool:
    if rest.startswith("["):  # numpy[version='1.26.4']
        return _BRACKET_EXACT.search(rest) is not None
    return _EXACT.match(" " + rest if rest and rest[0].isdigit() else rest) is not None


def _unpinned(subject: Subject, strings: Packages, policy: Policy) -> Iterator[Hit]:
    for key, spec in strings:
        parsed = parse(spec)
        if parsed is None or parsed[1] in policy.allow_unpinned or pinned(parsed[2]):
            continue
        yield subject.conda_hit(
            UNPINNED,
            key,
            f"conda package '{spec}' is not pinned: write {parsed[1]}=<version> so the solver picks "
            "the same one in every build",
        )


def _channels(subject: Subject, conda: dict[str, Any], strings: Packages, policy: Policy) -> Iterator[Hit]:
    channels = conda.get("channels")
    listed = [c for c in channels if isinstance(c, str)] if isinstance(channels, list) else []
    for i, channel in enumerate(channels if isinstance(channels, list) else []):
        if isinstance(channel, str) and denied(channel, policy.denied_channels):
            yield subject.conda_hit(CHANNEL, ("channels", i), _denied_message(f"channel '{channel}'"))
    for key, spec in strings:
        parsed = parse(spec) if "::" in spec else None
        if parsed and parsed[0] and denied(parsed[0], policy.denied_channels):
            yield subject.conda_hit(
                CHANNEL, key, _denied_message(f"'{spec}' names channel '{parsed[0]}', which")
            )
    if DEFAULTS in policy.denied_channels and "nodefaults" not in listed:
        where: Key = ("channels",) if isinstance(channels, list) else ()
        yield subject.conda_hit(
            CHANNEL,
            where,
            "conda adds the denied 'defaults' channel to a spec's own unless the list has 'nodefaults': "
            "add '- nodefaults' to channels",
        )


@lru_cache(maxsize=1024)
def denied(channel: str, patterns: frozenset[str]) -> bool:
    name = channel.rstrip("/").lower()
    for pattern in patterns:
        aliases = DEFAULTS_ALIASES if pattern == DEFAULTS else (pattern.lower(),)
        if any(fnmatch.fnmatchcase(name, alias) for alias in aliases):
            return True
    return False


def _denied_message(what: str) -> str:
    return f"{what} is denied by policy (conda.denied_channels): use an allowed channel such as conda-forge"


def _python(subject: Subject, conda: dict[str, Any], strings: Packages) -> Iterator[Hit]:
    for key, spec in strings:
        parsed = parse(spec)
        if parsed and parsed[1] == "python":
            if not parsed[2]:
                yield subject.conda_hit(
                    PYTHON, key, "python has no version: write python=3.X so every build gets the same Python"
                )
            return
    where: Key = ("dependencies",) if "dependencies" in conda else ()
    yield subject.conda_hit(
        PYTHON,
        where,
        "the conda spec does not say which Python to install: add python=3.X to dependencies",
    )
