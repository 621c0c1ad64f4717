"""pip rules, on the `pip:` lists of a conda spec: pip-unpinned, pip-url-unpinned, pip-index-option.

A requirement is pinned by `==`/`===` (no wildcard) or by a `--hash`. A VCS requirement
(`git+https://...`) needs a full commit hash after `@`; an archive URL needs a `#sha256=`
fragment (or a `--hash`). Options that add or replace where packages come from open the door
to dependency confusion (a public package shadowing a private one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from envsync.spec.policy.settings import Policy
from envsync.spec.policy.subject import Hit, Subject
from envsync.spec.yamlio import Key

UNPINNED, URL, INDEX = "pip-unpinned", "pip-url-unpinned", "pip-index-option"
RULES = frozenset({UNPINNED, URL, INDEX})
# The Policy fields its findings depend on (besides which rules are on).
PARAMETERS: tuple[str, ...] = ()
INDEX_OPTIONS = ("--index-url", "-i", "--extra-index-url", "--find-links", "-f", "--trusted-host")
# name[extras] == version [; marker]: the common case, matched without a full PEP 508 parse.
_EXACT = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*===?\s*[A-Za-z0-9][A-Za-z0-9.+!_-]*\s*(;.*)?$"
)
_COMMENT = re.compile(r"\s#")
_SPECIFIER = re.compile(r"(===|==|!=|~=|<=|>=|<|>)\s*([A-Za-z0-9.*+!_-]+)")
_SIMPLE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*"
    r"(?P<specifiers>((===|==|!=|~=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+\s*,?\s*)*)$"
)
_VCS = ("git+", "hg+", "svn+", "bzr+")
_FULL_HASH = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64})$")
_HASH_FRAGMENT = re.compile(r"[#&](sha256|sha384|sha512)=[0-9a-f]+", re.IGNORECASE)


def check(subject: Subject, policy: Policy) -> Iterator[Hit]:
    if not policy.any_on(RULES):
        return
    for key, line in pip_lines(subject.conda):
        if _EXACT.match(line):
            continue  # name==version: most lines, and each one different (no use caching)
        for rule, message in classify(line):
            if policy.on(rule):
                yield subject.conda_hit(rule, key, message)


def pip_lines(conda: Any) -> list[tuple[Key, str]]:
    """(key inside the conda spec, text) of every `pip:` entry of a valid conda spec."""
    # Loading checked the shape: dependencies are strings or {pip: [strings]}.
    deps = conda.get("dependencies") if isinstance(conda, dict) else None
    return [
        (("dependencies", i, "pip", j), line)
        for i, item in enumerate(deps or ())
        if isinstance(item, dict)
        for j, line in enumerate(item["pip"])
    ]


@lru_cache(maxsize=4096)  # the same pins recur across environments
def classify(line: str) -> tuple[tuple[str, str], ...]:
    """(rule, message) for each way one `pip:` entry breaks a pip rule."""
    text = _COMMENT.split(line, maxsplit=1)[0].strip()
    if text.startswith("-"):
        return _option(text, line)
    words = text.split()
    hashed = any(w.startswith("--hash") for w in words)
    requirement = " ".join(w for w in words if not w.startswith("--hash"))
    if _EXACT.match(requirement):
        return ()
    url = _url_of(requirement)
    if url is not None:
        return _url(url, hashed, line)
    if hashed or _pinned(requirement):
        return ()
    return (
        (
            UNPINNED,
            f"pip requirement '{line}' is not pinned: write name==version (or add --hash) so every "
            "build installs the same version",
        ),
    )


def _option(text: str, line: str) -> tuple[tuple[str, str], ...]:
    name, _, rest = text.replace("=", " ", 1).partition(" ")
    if name in INDEX_OPTIONS:
        return (
            (
                INDEX,
                f"pip option '{name}' changes where packages come from, so a public package can "
                "shadow a private one (dependency confusion): install from the image's pip config",
            ),
        )
    if name in ("-e", "--editable"):
        url = _url_of(rest.strip())
        return _url(url, False, line) if url else ()
    # -r/-c name files the build does not have here; flags like --pre say nothing about pins.
    return ()


def _url_of(requirement: str) -> str | None:
    """The URL a requirement installs from (`name @ url`, or a bare URL), else None."""
    if " @ " in requirement or "@ " in requirement:
        return requirement.split("@", 1)[1].strip().split(";")[0].strip()
    if "://" in requirement or requirement.startswith(_VCS):
        return requirement.split(";")[0].strip()
    return None


def _url(url: str, hashed: bool, line: str) -> tuple[tuple[str, str], ...]:
    if url.startswith(_VCS):
        vcs = url.split("+", 1)[0]
        path = url.split("://", 1)[-1].split("#", 1)[0]
        host_and_path, at, revision = path.rpartition("@")
        pinned = bool(at) and "/" in host_and_path and _revision_ok(vcs, revision)
        if pinned:
            return ()
        return (
            (
                URL,
                f"pip requirement '{line}' installs from {vcs} at a ref that can move: pin a full "
                "commit hash (...@<40-hex commit>)",
            ),
        )
    if hashed or _HASH_FRAGMENT.search(url):
        return ()
    return (
        (
            URL,
            f"pip requirement '{line}' downloads a URL whose content can change: add #sha256=<hash> "
            "(or --hash) so pip refuses other bytes",
        ),
    )


def _revision_ok(vcs: str, revision: str) -> bool:
    if vcs in ("git", "hg"):
        return _FULL_HASH.match(revision) is not None
    return revision.isdigit()  # svn and bzr revision numbers never move


def _pinned(requirement: str) -> bool:
    """Whether a PEP 508 requirement pins one exact version: the usual `name[extras] op version,
    ...` read here; anything else parsed by `packaging` (whose import costs ~20 ms)."""
    simple = _SIMPLE.match(requirement)
    if simple is not None:
        specifiers = _SPECIFIER.findall(simple.group("specifiers"))
        return any(op == "===" or (op == "==" and "*" not in version) for op, version in specifiers)
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        parsed = Requirement(requirement)
    except InvalidRequirement:
        return True  # not a requirement pip understands: not this rule's business
    return any(s.operator == "===" or (s.operator == "==" and "*" not in s.version) for s in parsed.specifier)
