"""A conda spec in a plan, package by package: `+ numpy==1.26.4`, `- numpy==1.24.0`, and
`python 3.10 → 3.11` changed in place. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from envsync.plan.lines import Changed, Detail


def conda_diff(before: Any, after: Any) -> list[Detail]:
    """Package-level lines, under `conda:`: `+ numpy==1.26.4`, `- numpy==1.24.0`, and
    `python 3.10 → 3.11` changed in place."""
    old, new = packages(before), packages(after)
    found: list[Detail] = []
    for name in sorted(old.keys() | new.keys()):
        if name not in old:
            found.append(f"    + {new[name]}")
        elif name not in new:
            found.append(f"    - {old[name]}")
        elif old[name] != new[name]:
            found.append(Changed(_display_name(name), _pin(old[name]), _pin(new[name]), depth=2, sep=" "))
    if not found and before != after:
        found.append("    ~ (channels, name or package order changed)")
    return found


def packages(conda: Any) -> dict[str, str]:
    from envsync.spec.conda import conda_packages

    return conda_packages(conda) if isinstance(conda, Mapping) else {}


def _display_name(key: str) -> str:
    return key.split(":", 1)[1] if key.startswith("pip:") else key


def _pin(spec: str) -> str:
    for separator in ("===", "==", ">=", "<=", "~=", "!=", "=", ">", "<", " "):
        if separator in spec:
            return spec.split(separator, 1)[1].strip() or spec
    return "(any)"
