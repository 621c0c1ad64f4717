"""The machine an image build installs on: conda's subdir, its virtual packages, pip's platform.

Azure ML builds Linux images on x86-64 (`linux-64`) and Windows ones on `win-64`. The base
image's name says what else a solver must assume: its Ubuntu release fixes glibc (conda-forge's
`__glibc`, pip's manylinux tag), a `cudaX.Y` in it the CUDA driver (`__cuda`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_UBUNTU = re.compile(r"ubuntu(\d\d)\.?(\d\d)")
_CUDA = re.compile(r"cuda(\d+)\.?(\d+)?")
# Ubuntu release → its glibc (Ubuntu's package pages); 22.04 when the image does not say.
_GLIBC = {"1804": "2.27", "2004": "2.31", "2204": "2.35", "2404": "2.39"}
_DEFAULT_GLIBC = "2.35"
_MANYLINUX = ("2.28", "2.31", "2.32", "2.33", "2.34", "2.35", "2.36", "2.37", "2.38", "2.39", "2.40")


@dataclass(frozen=True)
class Platform:
    subdir: str  # linux-64 | win-64
    virtual: tuple[tuple[str, str, str], ...]  # (name, version, build) of each virtual package
    pip: str  # uv's --python-platform


@functools.lru_cache(maxsize=1024)  # a repository has a few base images
def platform_of(image: str | None, os_type: str) -> Platform:
    name = (image or "").lower()
    cuda = _CUDA.search(name)
    gpu = ((("__cuda", f"{cuda.group(1)}.{cuda.group(2) or '0'}", "0"),)) if cuda else ()
    if os_type.lower() == "windows":
        return Platform(
            "win-64", (("__win", "0", "0"), ("__archspec", "1", "x86_64"), *gpu), "x86_64-pc-windows-msvc"
        )
    ubuntu = _UBUNTU.search(name)
    glibc = _GLIBC.get("".join(ubuntu.groups()), _DEFAULT_GLIBC) if ubuntu else _DEFAULT_GLIBC
    virtual = (
        ("__unix", "0", "0"),
        ("__linux", "5.15", "0"),
        ("__glibc", glibc, "0"),
        ("__archspec", "1", "x86_64"),
    )
    return Platform("linux-64", (*virtual, *gpu), _manylinux(glibc))


def _manylinux(glibc: str) -> str:
    """The newest manylinux tag uv knows that this glibc runs (manylinux_2_17 below 2.28)."""
    fitting = [v for v in _MANYLINUX if tuple(map(int, v.split("."))) <= tuple(map(int, glibc.split(".")))]
    return f"x86_64-manylinux_{fitting[-1].replace('.', '_')}" if fitting else "x86_64-manylinux_2_17"
