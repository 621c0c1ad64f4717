"""Environment names and versions exactly as Azure ML accepts them.

The name rule is the spec's (mfe.json 2025-12-01, the `name` path parameter of every PUT):
`^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$`. Python's `$` also matches before a final newline, so
every pattern here is matched whole (`fullmatch`): `"env\\n"` is no name.

The spec gives `version` no pattern, but a version is a path segment of every request and the
last part of `azureml:NAME:VERSION`: `../x` walks out of its URL, `a#b` ends it, `v 1` splits a
reference, and `latest` is the label `@latest` and `labels/latest` name. So a version takes
the name's characters plus '.', starts with a letter or digit, and is not `latest`.
"""

from __future__ import annotations

import re
from functools import lru_cache

NAME_RULE = "1-255 letters, digits, '-' and '_', starting with a letter or digit"
VERSION_RULE = "1-255 letters, digits, '.', '-' and '_', starting with a letter or digit, not 'latest'"

_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}")
_VERSION = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9.\-_]{0,254}")
_RESERVED_VERSIONS = frozenset({"latest"})


def valid_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def valid_version(version: str) -> bool:
    return _VERSION.fullmatch(version) is not None and version.lower() not in _RESERVED_VERSIONS


def name_problem(name: str) -> str | None:
    """Why the service would refuse `name`, or None."""
    return None if valid_name(name) else f"{name!r} is not a valid environment name: use {NAME_RULE}"


def version_problem(version: str) -> str | None:
    """Why the service would refuse `version`, or None."""
    if valid_version(version):
        return None
    if version.lower() in _RESERVED_VERSIONS:
        return f"version {version!r} is reserved (it names the latest version, as in @latest): use another"
    return f"version {version!r} is not a valid version: use {VERSION_RULE}"


@lru_cache(maxsize=32)
def anchored(pattern: str) -> re.Pattern[str]:
    """An ECMA-style `^...$` pattern (as OpenAPI writes them) that matches only the whole
    string: its final `$` becomes `\\Z`, so no trailing newline slips through."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)
