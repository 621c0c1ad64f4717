"""Paths a repository names stay inside it, symlinks included: checked before anything is read.

A pull request controls every path in its YAMLs and every symlink it commits; after
`azure/login` the runner's home holds a token cache. Whatever envsync reads or writes because
of repository content must therefore resolve inside the repository root.
"""

from __future__ import annotations

import os
from pathlib import Path


def inside(path: Path | str, root: Path | str) -> bool:
    """Whether `path`, with every symlink on the way resolved, is `root` or below it."""
    return _below(os.path.realpath(path), os.path.realpath(root))


def lexically_inside(path: Path | str, root: Path | str) -> bool:
    """Whether `path`, with `..` folded but no symlink followed, is `root` or below it: all that
    can be said of a path in a commit read from git (a link there is never followed)."""
    return _below(os.path.normpath(os.path.abspath(path)), os.path.normpath(os.path.abspath(root)))


def _below(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
