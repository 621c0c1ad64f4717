"""Image rules: image-mutable-tag, image-digest-required, image-registry-allowed.

They apply to an environment's `image:` and to every image its build context's Dockerfile
pulls (`FROM`, `COPY --from=`), located in the Dockerfile.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from envsync.spec.policy.settings import Policy
from envsync.spec.policy.subject import Hit, Subject

MUTABLE, DIGEST, REGISTRY = "image-mutable-tag", "image-digest-required", "image-registry-allowed"
RULES = frozenset({MUTABLE, DIGEST, REGISTRY})
PARAMETERS: tuple[str, ...] = (
    "allowed_registries",
    "mutable_tags",
)  # the Policy fields its findings depend on
DOCKER_HUB = "docker.io"


@dataclass(frozen=True)
class ImageRef:
    """A Docker image reference, split as Docker does: [registry/]repository[:tag][@digest]."""

    registry: str  # lower case; docker.io when the reference names none
    repository: str
    tag: str | None
    digest: str | None


@lru_cache(maxsize=1024)  # a repository's environments share a few base images
def parse_image(text: str) -> ImageRef:
    rest, _, digest = text.strip().partition("@")
    tag = None
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):  # a colon before the last slash is a registry's port
        rest, tag = rest[:colon], rest[colon + 1 :]
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return ImageRef(first.lower(), remainder, tag, digest or None)
    repository = rest if slash else f"library/{rest}"
    return ImageRef(DOCKER_HUB, repository, tag, digest or None)


Report = Callable[[str, str], Hit]  # (rule, message) → a hit at the image's location


def check(subject: Subject, policy: Policy) -> Iterator[Hit]:
    if not policy.any_on(RULES):
        return
    if subject.spec.image:
        image = subject.spec.image
        yield from image_hits(
            f"image '{image}'", image, policy, lambda rule, m: subject.hit(rule, ("image",), m)
        )
    yield from _dockerfile_hits(subject, policy)


def image_hits(what: str, image: str, policy: Policy, report: Report) -> Iterator[Hit]:
    """The image rules' hits for one image reference, described to the user as `what`."""
    ref = parse_image(image)
    if policy.on(MUTABLE) and ref.digest is None:
        if ref.tag is None:
            yield report(
                MUTABLE,
                f"{what} has no tag, so it means :latest, which moves: pin a version tag or a digest "
                "(@sha256:...) so every workspace builds the same image",
            )
        elif ref.tag in policy.mutable_tags:
            yield report(
                MUTABLE,
                f"{what} uses the moving tag '{ref.tag}': each workspace keeps whatever it resolved "
                "to at its first build; pin a version tag or a digest (@sha256:...)",
            )
    if policy.on(DIGEST) and not (ref.digest or "").startswith("sha256:"):
        yield report(
            DIGEST, f"{what} is not pinned by digest (a tag can be re-pushed): append @sha256:<digest>"
        )
    if policy.on(REGISTRY) and policy.allowed_registries and not allowed(ref, policy.allowed_registries):
        shown = ", ".join(policy.allowed_registries)
        yield report(
            REGISTRY, f"{what} comes from {ref.registry}, which is not an allowed registry ({shown})"
        )


@lru_cache(maxsize=1024)
def allowed(ref: ImageRef, patterns: tuple[str, ...]) -> bool:
    """A glob with a slash matches registry/repository; one without, the registry alone."""
    full = f"{ref.registry}/{ref.repository}"
    return any(fnmatch.fnmatchcase(full if "/" in p else ref.registry, p.lower()) for p in patterns)


def _dockerfile_hits(subject: Subject, policy: Policy) -> Iterator[Hit]:
    shown = subject.dockerfile[0] if subject.dockerfile else ""
    for pulled in subject.pulled:

        def report(rule: str, message: str, line: int = pulled.line, col: int = pulled.col) -> Hit:
            return Hit(rule, shown, line, col, message)

        if pulled.image is None:
            if policy.on(MUTABLE):
                names = ", ".join(pulled.missing)
                yield report(
                    MUTABLE,
                    f"base image '{pulled.written}': ARG {names} has no default, and Azure ML passes "
                    "no build arguments, so the image cannot be known: give the ARG a default",
                )
            continue
        written = f" (written {pulled.written})" if pulled.written != pulled.image else ""
        yield from image_hits(f"base image '{pulled.image}'{written}", pulled.image, policy, report)
