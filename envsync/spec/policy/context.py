"""Build-context rules: context-secret-file, context-max-size, context-max-files.

They look at exactly what an upload sends: the files the context digest covers, after
`.amlignore`/`.gitignore`. All three are reported at `build.path`.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterator
from functools import lru_cache

from envsync.spec.policy.settings import Policy
from envsync.spec.policy.subject import Hit, Subject

SECRET, SIZE, FILES = "context-secret-file", "context-max-size", "context-max-files"
RULES = frozenset({SECRET, SIZE, FILES})
PARAMETERS: tuple[str, ...] = (
    "max_context_mb",
    "max_context_files",
    "secret_files",
)  # the Policy fields its findings depend on
MB = 1024 * 1024


def check(subject: Subject, policy: Policy) -> Iterator[Hit]:
    build = subject.spec.build
    if build is None or build.remote or not policy.any_on(RULES):
        return
    key, shown = subject.context_key(), subject.doc.data["build"].get(subject.context_key()[1])
    files = subject.files
    if policy.on(SECRET):
        for relpath, _ in files:
            pattern = secret_pattern(relpath, policy.secret_files)
            if pattern is not None:
                yield subject.hit(
                    SECRET,
                    key,
                    f"build context '{shown}' uploads '{relpath}', which looks like a secret ({pattern}): "
                    "delete it or list it in .amlignore",
                )
    total = sum(size for _, size in files)
    if policy.on(SIZE) and total > policy.max_context_mb * MB:
        yield subject.hit(
            SIZE,
            key,
            f"build context '{shown}' uploads {total / MB:,.1f} MB, over the {policy.max_context_mb:g} MB "
            "limit (context.max_size_mb): list data and models in .amlignore",
        )
    if policy.on(FILES) and len(files) > policy.max_context_files:
        yield subject.hit(
            FILES,
            key,
            f"build context '{shown}' uploads {len(files):,} files, over the {policy.max_context_files:,} "
            "limit (context.max_files): list what the image does not need in .amlignore",
        )


def secret_pattern(relpath: str, patterns: tuple[str, ...]) -> str | None:
    """The first pattern the file's name matches (case-insensitively), or None."""
    name = posixpath.basename(relpath).lower()
    if _any_of(patterns).match(name) is None:  # one regex for all: most files match none
        return None
    return next((p for p in patterns if fnmatch.fnmatchcase(name, p.lower())), None)


@lru_cache(maxsize=16)
def _any_of(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(fnmatch.translate(p.lower()) for p in patterns))
