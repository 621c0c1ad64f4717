"""Which versions of an environment are envsync's to manage. Pure.

A version envsync made carries its provenance (`envsync.fingerprint`). A version made by hand
and then imported carries none, and cannot get it (properties are set at creation), so
adoption is recorded on the container instead: the first apply that writes envsync's
last-applied record there lists, in the record's `adopted`, the active versions made outside
envsync that were there. From then on those versions are envsync's like its own: drift
does not report them, and once git no longer defines the environment they are orphans that
`apply --prune` archives. A version made by hand after that is in no list, and is reported.

Records written before adoption was recorded carry no list; for them the versions older than
envsync's first version are the adopted ones (nothing made by hand since is taken in), or every
version when envsync made none (it applied over an import before this rule existed). Without
any record nothing is adopted; so the record that adopts is never deferred (`apply.records`).
"""

from __future__ import annotations

from envsync.plan import last_applied
from envsync.plan.model import ObservedEnvironment
from envsync.workspace import RemoteVersion


def adopted(env: ObservedEnvironment) -> frozenset[str]:
    """The versions without envsync's provenance that are envsync's anyway (adopted)."""
    record = last_applied.read(env.container) if env.container is not None else None
    if record is None:
        return frozenset()  # no adoption recorded: only what envsync made is its own
    if record.adopted:
        return frozenset(record.adopted)
    versions = [v for v in env.versions if not v.curated]  # newest first
    made = [i for i, v in enumerate(versions) if v.managed]
    if made:
        return frozenset(v.version for v in versions[made[-1] + 1 :] if not v.managed)
    return frozenset(v.version for v in versions)


def to_adopt(env: ObservedEnvironment) -> tuple[str, ...]:
    """What the next record written on `env`'s container lists as adopted: the list it has,
    else (envsync has not applied here yet) every active version there, made by hand and
    imported into git since; else the versions older than envsync's first."""
    record = last_applied.read(env.container) if env.container is not None else None
    if record is None and not any(v.managed for v in env.versions):
        return tuple(sorted(v.version for v in env.active if not v.curated))
    return tuple(sorted(adopted(env)))


def owned(version: RemoteVersion, adopted: frozenset[str]) -> bool:
    """Whether envsync manages `version`: it made it, or adopted it."""
    return version.managed or version.version in adopted


def applied(env: ObservedEnvironment) -> bool:
    """Whether envsync has applied this environment (a version of its own, or its record)."""
    container = env.container
    recorded = container is not None and last_applied.TAG in container.tags
    return recorded or any(v.managed for v in env.versions)
