"""The pip part: a `pip:` section → `uv pip compile`, for the Python and platform conda solved.

uv over `pip install --dry-run --report`: uv resolves for a Python version and platform that
this machine need not have (pip allows that only for wheels and only with --target), and
measured here it resolves in 0.02-0.2 s where pip takes 0.6-1.1 s (docs/solve.md).
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from envsync.errors import SolveError
from envsync.solve.model import Answer, Manager, Package
from envsync.solve.request import Pin
from envsync.solve.words import mentioned, one_line, unreachable
from envsync.spec.conda import pip_name
from envsync.spec.solving import SolveSettings

FIX = "envsync solve needs the network, or a mirror (solve.pip.index_url in envsync.yaml)"
MAX_ANSWER = 16 * 2**20  # uv's pylock.toml: a few KB per package
_YOU_REQUIRE = re.compile(r"you require (.+?)(?:, we can| and we can|$)")
_UNSOLVABLE = ("No solution found", "not found in the package registry", "unsatisfiable")


def resolve_pip(
    pins: Sequence[Pin], python: str, platform: str, settings: SolveSettings, cache_dir: Path
) -> Answer:
    """The pins resolved together for `python` (a version) on `platform` (uv's name)."""
    done = _compile(pins, python, platform, settings, cache_dir)
    if len(done.stdout) > MAX_ANSWER:
        raise SolveError(f"uv's answer is over {MAX_ANSWER // 2**20} MiB")
    if done.returncode == 0:
        return Answer(packages=tuple(_packages(done.stdout)))
    words = one_line(done.stderr)
    if not any(marker in done.stderr for marker in _UNSOLVABLE):
        urls = [settings.index_url or "https://pypi.org/simple", *settings.extra_index_urls]
        raise SolveError(unreachable("pip index", urls, done.stderr, FIX))
    blamed = mentioned(_required(done.stderr), [p.name for p in pins], prefix="pip:")
    words = words[:1].lower() + words[1:] if words.startswith("Because") else words
    return Answer(failure=f"with Python {python}, {words}", blamed=blamed, manager=Manager.PIP)


def _required(text: str) -> str:
    """What uv says "you require": the requirements its explanation ends on (the ones to change);
    the whole text when it says no such thing."""
    found = _YOU_REQUIRE.findall(" ".join(text.split()))
    return " ".join(found) or text


def _compile(
    pins: Sequence[Pin], python: str, platform: str, settings: SolveSettings, cache_dir: Path
) -> subprocess.CompletedProcess[str]:
    command = [
        uv_binary(),
        *(
            "pip",
            "compile",
            "-",
            "--no-config",
            "--quiet",
            "--format",
            "pylock.toml",
        ),  # PEP 751: URLs, hashes
        *("--python", sys.executable, "--no-python-downloads"),  # targets a version; none is run
        *("--python-version", python, "--python-platform", platform, "--cache-dir", str(cache_dir)),
        *(() if settings.build_sdists else ("--no-build",)),
        *(("--index-url", settings.index_url) if settings.index_url else ()),
        *(arg for url in settings.extra_index_urls for arg in ("--extra-index-url", url)),
    ]
    text = "".join(f"{p.text}\n" for p in pins)
    # One retry unless the runner says otherwise: an index that is down fails in a second, not 7.
    env = {"UV_HTTP_RETRIES": "1", **os.environ, "UV_NO_PROGRESS": "1", "NO_COLOR": "1"}
    try:
        return subprocess.run(
            command, input=text, capture_output=True, text=True, timeout=settings.timeout, env=env
        )
    except subprocess.TimeoutExpired:
        raise SolveError(
            f"pip's resolution took over {settings.timeout:g}s: raise solve.timeout in envsync.yaml"
        ) from None


@functools.cache  # once, before the threads that run it: finding it is not thread-safe
def uv_binary() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        raise SolveError("envsync solve needs uv for pip sections: pip install 'envsync[solve]'") from None
    return find_uv_bin()


def _packages(output: str) -> list[Package]:
    """The packages of uv's pylock.toml, each with the first file it lists (the wheel an
    install on that platform would take, or the sdist)."""
    try:
        doc = tomllib.loads(output)
    except tomllib.TOMLDecodeError as e:
        raise SolveError(f"uv's answer is not TOML: {e}") from None
    return [_package(p) for p in doc.get("packages", ())]


def _package(doc: dict[str, Any]) -> Package:
    files = [*doc.get("wheels", ()), *([doc["sdist"]] if "sdist" in doc else ())]
    first = files[0] if files else {}
    sha256 = first.get("hashes", {}).get("sha256")
    return Package(
        pip_name(doc["name"]), str(doc["version"]), Manager.PIP, url=first.get("url", ""), sha256=sha256
    )
