"""Which images a Dockerfile pulls, as Docker resolves them (pure: text in, images out)."""

from __future__ import annotations

import pytest

from envsync.spec.policy.dockerfile import Pulled, expand, pulled_images


def images(text: str) -> list[tuple[str | None, int, int]]:
    return [(p.image, p.line, p.col) for p in pulled_images(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM python:3.11\n", [("python:3.11", 1, 6)]),
        ("from python:3.11 as Build\nFROM BUILD\n", [("python:3.11", 1, 6)]),  # stage names ignore case
        ("FROM scratch\nCOPY app /app\n", []),
        (
            "ARG A=python\nARG B=${A}:3.11\nFROM $B\n",
            [("python:3.11", 3, 6)],
        ),  # an ARG default uses an earlier ARG
        ('ARG BASE="python:3.11"\nFROM ${BASE}\n', [("python:3.11", 2, 6)]),
        ("ARG TAG\nFROM python:${TAG:-3.12}\n", [("python:3.12", 2, 6)]),
        ("ARG SLIM=1\nFROM python:3.11${SLIM:+-slim}\n", [("python:3.11-slim", 2, 6)]),
        (
            "FROM python:3.11\nARG LATE=x\nFROM ubuntu:${LATE}\n",
            [("python:3.11", 1, 6), (None, 3, 6)],
        ),  # after FROM: not global
        (
            "# comment\n\nFROM \\\n  python:3.11\n",
            [("python:3.11", 3, 6)],
        ),  # continued: located at the arguments
        ("FROM --platform=$BUILDPLATFORM python:3.11 AS b\n", [("python:3.11", 1, 32)]),
        ("# escape=`\nFROM python:3.11 `\n  AS b\nFROM b\n", [("python:3.11", 2, 6)]),
        ("FROM a:1\nRUN <<EOF\nFROM not-an-instruction\nEOF\nFROM b:2\n", [("a:1", 1, 6), ("b:2", 5, 6)]),
        (
            "FROM a:1 AS x\nCOPY --from=x /a /a\nCOPY --from=0 /a /a\nCOPY --from=c:3 /a /a\n",
            [("a:1", 1, 6), ("c:3", 4, 13)],
        ),
        ("RUN echo\n  # FROM nothing\n", []),
    ],
)
def test_pulled_images(text: str, expected: list[tuple[str | None, int, int]]) -> None:
    assert images(text) == expected


def test_an_arg_without_a_value_is_named() -> None:
    assert pulled_images("ARG BASE\nFROM ${BASE}:1\n") == [Pulled("${BASE}:1", 2, 6, None, ("BASE",))]


def test_expand_follows_docker() -> None:
    args = {"SET": "v", "EMPTY": "", "NONE": None}
    assert expand("${SET}-$SET-${EMPTY:-d}-${NONE:-d}-${SET:+alt}-${EMPTY:+alt}", args) == (
        "v-v-d-d-alt-",
        (),
    )
    assert expand("${NONE}", args) == (None, ("NONE",))
    assert expand("${UNDECLARED}", args) == (None, ("UNDECLARED",))
