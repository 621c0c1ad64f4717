"""Conda environment specs (`conda_file:`): shape checks and a package-level view.

The same rules apply to a spec written inline under `conda_file:` and to a conda file, so both
give the same messages; `check_conda` returns findings keyed inside the spec.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from envsync.spec.problems import Finding, Severity, dotted, yaml_kind
from envsync.spec.yamlio import Key

# `conda env create` reads these; anything else is ignored by conda, so a typo silently drops
# packages (`dependecies:`): worth a warning, not an error.
KNOWN_KEYS = ("name", "channels", "dependencies", "prefix", "variables")
_NAME_END = re.compile(r"[\s=<>!~;\[@(]")


def check_conda(conda: Any) -> list[Finding]:
    """Every way `conda` breaks the conda spec shape (mapping; name, channels, dependencies)."""
    if not isinstance(conda, dict):
        kind = yaml_kind(conda)
        return [Finding((), f"the conda spec must be a mapping (name, channels, dependencies), not {kind}")]
    found = [_unknown(key) for key in conda if key not in KNOWN_KEYS]
    if "name" in conda and not isinstance(conda["name"], str):
        found.append(Finding(("name",), "conda name must be a string"))
    found += _strings(conda, ("channels",), "channels")
    if "dependencies" in conda:
        found += _dependencies(conda["dependencies"])
    return found


def _unknown(key: Any) -> Finding:
    close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return Finding((key,), f"unknown conda key '{key}'{hint}; conda ignores it", Severity.WARNING, True)


def _strings(parent: dict[str, Any], key: Key, label: str) -> list[Finding]:
    """`parent[key[-1]]`, if present, must be a list of strings."""
    value = parent.get(str(key[-1]))
    if str(key[-1]) not in parent:
        return []
    if not isinstance(value, list):
        return [Finding(key, f"conda {label} must be a list of strings")]
    return [
        Finding((*key, i), f"conda {label} entry {item!r} must be a string (quote it)")
        for i, item in enumerate(value)
        if not isinstance(item, str)
    ]


def _dependencies(deps: Any) -> list[Finding]:
    if not isinstance(deps, list):
        return [Finding(("dependencies",), "conda dependencies must be a list")]
    found: list[Finding] = []
    for i, item in enumerate(deps):
        key: Key = ("dependencies", i)
        if isinstance(item, dict):
            found += _pip(item, key)
        elif not isinstance(item, str):
            found.append(Finding(key, f"conda dependency {item!r} must be a string (quote it)"))
    return found


def _pip(item: dict[str, Any], key: Key) -> list[Finding]:
    others = [k for k in item if k != "pip"]
    if others or "pip" not in item:
        return [Finding(key, f"{dotted(key)}: only a 'pip:' list may appear among conda dependencies")]
    return _strings(item, (*key, "pip"), "pip dependencies")


def conda_packages(conda: Any) -> dict[str, str]:
    """Package name → full spec, for package-level diffs of two conda specs.

    Conda packages are keyed by name (channel prefix dropped), pip packages by `pip:` plus
    their normalised name (PEP 503); pip options and URLs without a name are keyed by their
    whole text. Example: {"python": "python=3.10", "pip:numpy": "numpy==1.26.4"}. A later
    entry for the same name wins, as it would in the solver's view. Non-specs give {}.
    """
    packages: dict[str, str] = {}
    deps = conda.get("dependencies") if isinstance(conda, dict) else None
    for item in deps if isinstance(deps, list) else []:
        if isinstance(item, str):
            packages[_conda_name(item)] = item
        elif isinstance(item, dict) and isinstance(item.get("pip"), list):
            packages.update({f"pip:{pip_name(p)}": p for p in item["pip"] if isinstance(p, str)})
    return packages


def _conda_name(spec: str) -> str:
    bare = spec.split("::", 1)[-1].strip()  # conda-forge::numpy=1.26
    return _NAME_END.split(bare, maxsplit=1)[0].lower() or spec


def pip_name(spec: str) -> str:
    text = spec.strip()
    if text.startswith("-") or "://" in text.split("@")[0] or text.startswith((".", "/")):
        egg = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", text)
        return _normalise(egg.group(1)) if egg else text
    return _normalise(_NAME_END.split(text, maxsplit=1)[0]) or text


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
