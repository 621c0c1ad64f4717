"""`envsync solve --lock`: each solvable spec's solve, written beside its YAML in conda-lock's
format (version 1), which `conda-lock install`, micromamba and pixi's rattler read.

conda-lock's over an `@EXPLICIT` list: one file holds the pip packages too (an explicit list
cannot), with each file's URL and hash. `content_hash` is the solve's key (the spec's
fingerprint and the solve settings): a lock whose key is current is left as it is.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from envsync.solve.model import Manager, Outcome, Package
from envsync.solve.run import SolveRun
from envsync.spec.document import display
from envsync.spec.solving import LOCK_SUFFIX

HEADER = "# Written by envsync solve --lock from {source}; re-solve: envsync solve --lock --update\n"


def lock_path(root: Path, outcome: Outcome) -> Path:
    source = root / outcome.path
    return source.with_name(source.stem + LOCK_SUFFIX)


def write_locks(run: SolveRun, root: Path, *, rewrite: bool) -> list[str]:
    """The lock of every solvable outcome whose lock is absent or stale (all with `rewrite`);
    the paths written, as shown."""
    written = []
    for outcome in run.outcomes:
        path, key = lock_path(root, outcome), outcome.key
        if outcome.problems or (not rewrite and _current(path, outcome.platform, key)):
            continue
        text = HEADER.format(source=Path(outcome.path).name) + yaml.safe_dump(
            lock_document(outcome, key), sort_keys=False, width=200
        )
        _replace(path, text)
        written.append(display(path, root))
    return written


def _replace(path: Path, text: str) -> None:
    """Write `path` whole, as a new file: a lock that a pull request made a symlink (to a file
    outside the repository, say) is replaced by the lock, never written through."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".lock-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def lock_document(outcome: Outcome, key: str) -> dict[str, Any]:
    channels = list(dict.fromkeys(p.channel.rstrip("/") for p in outcome.answer.packages if p.channel))
    return {
        "version": 1,
        "metadata": {
            "content_hash": {outcome.platform: key},
            "channels": [{"url": url, "used_env_vars": []} for url in channels],
            "platforms": [outcome.platform],
            "sources": [Path(outcome.path).name],
        },
        "package": [_locked(p, outcome.platform) for p in outcome.answer.packages],
    }


def _locked(package: Package, platform: str) -> dict[str, Any]:
    hashes = {k: v for k, v in (("md5", package.md5), ("sha256", package.sha256)) if v}
    return {
        "name": package.name,
        "version": package.version,
        "manager": package.manager.value,
        "platform": platform,
        "dependencies": dict(_dependency(d) for d in package.depends),
        "url": package.url,
        "hash": hashes,
        "category": "main",
        "optional": False,
        **({"build": package.build} if package.manager is Manager.CONDA else {}),
    }


def _dependency(spec: str) -> tuple[str, str]:
    name, _, rest = spec.strip().partition(" ")
    return name, rest.strip() or "*"


def _current(path: Path, platform: str, key: str) -> bool:
    try:
        with path.open("rb") as f:
            doc = yaml.safe_load(f.read(16 * 1024 * 1024))
        return bool(doc["metadata"]["content_hash"][platform] == key)
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return False
