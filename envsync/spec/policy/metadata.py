"""Metadata rules: tag-required, description-required, name-pattern.

Required tags come from `tags.required`: a tag that is missing is reported at `tags:` (or at
the name when there are none); a value that does not fully match its regex, at the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from envsync.spec.policy.settings import Policy
from envsync.spec.policy.subject import Hit, Subject

TAG, DESCRIPTION, NAME = "tag-required", "description-required", "name-pattern"
RULES = frozenset({TAG, DESCRIPTION, NAME})
# The Policy fields its findings depend on (besides which rules are on).
PARAMETERS: tuple[str, ...] = ("required_tags", "name_patterns")


def check(subject: Subject, policy: Policy) -> Iterator[Hit]:
    spec = subject.spec
    if policy.on(TAG):
        yield from _tags(subject, policy)
    if policy.on(DESCRIPTION) and not (spec.description or "").strip():
        yield subject.hit(
            DESCRIPTION,
            ("name",),
            f"environment '{spec.name}' has no description: add one saying what it is for",
        )
    if policy.on(NAME):
        for pattern in policy.name_patterns:
            if re.fullmatch(pattern, spec.name) is None:
                yield subject.hit(
                    NAME,
                    ("name",),
                    f"environment name '{spec.name}' does not match {pattern} (names.pattern)",
                )


def _tags(subject: Subject, policy: Policy) -> Iterator[Hit]:
    tags = subject.spec.tags
    for tag, patterns in policy.required_tags.items():
        if tag not in tags:
            where = ("tags",) if "tags" in subject.doc.data else ("name",)
            yield subject.hit(TAG, where, f"tag '{tag}' is required (tags.required): add it under tags")
            continue
        for pattern in patterns:
            if re.fullmatch(pattern, tags[tag]) is None:
                yield subject.hit(
                    TAG,
                    ("tags", tag),
                    f"tag '{tag}' is '{tags[tag]}', which does not match {pattern} (tags.required)",
                )
