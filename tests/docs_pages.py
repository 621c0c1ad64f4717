"""The documentation as the tests read it: README.md and the pages of the docs site (docs/)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text()


def page(name: str) -> str:
    return (DOCS / name).read_text()


def everything() -> str:
    """README and every hand-written page: what a reader can find by searching the docs."""
    return "\n".join([README, *(p.read_text() for p in sorted(DOCS.glob("*.md")))])
