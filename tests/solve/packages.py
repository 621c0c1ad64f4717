"""Local package sources for the solve tests: a conda channel folder and small wheels."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

# (subdir, name, version, build, depends): python at two versions, numpy at two (its 2.0 only
# for 3.11), a numpy that only Windows has, and pip (noarch, as conda-forge ships it).
RECORDS = (
    ("linux-64", "python", "3.10.14", "h0_0", []),
    ("linux-64", "python", "3.11.9", "h0_0", []),
    ("linux-64", "numpy", "1.26.4", "py310_0", ["python >=3.10,<3.11"]),
    ("linux-64", "numpy", "1.26.4", "py311_0", ["python >=3.11,<3.12"]),
    ("linux-64", "numpy", "2.0.0", "py311_0", ["python >=3.11,<3.12"]),
    ("win-64", "python", "3.11.9", "h0_0", []),
    ("win-64", "numpy", "1.25.0", "py311_0", ["python >=3.11,<3.12"]),
    ("noarch", "pip", "24.0", "pyhd8ed1ab_0", ["python >=3.8"]),
)


def write_channel(folder: Path, records: tuple[tuple[str, str, str, str, list[str]], ...] = RECORDS) -> Path:
    """A conda channel: SUBDIR/repodata.json for linux-64, win-64 and noarch."""
    by_subdir: dict[str, dict[str, dict[str, object]]] = {"linux-64": {}, "win-64": {}, "noarch": {}}
    for subdir, name, version, build, depends in records:
        digest = hashlib.sha256(f"{subdir}/{name}-{version}-{build}".encode()).hexdigest()
        record = {
            "name": name,
            "version": version,
            "build": build,
            "build_number": 0,
            "depends": depends,
            "subdir": subdir,
            "md5": digest[:32],
            "sha256": digest,
            "size": 1024,
            "timestamp": 1_700_000_000_000,
            **({"noarch": "python"} if subdir == "noarch" else {}),
        }
        by_subdir[subdir][f"{name}-{version}-{build}.conda"] = record
    for subdir, packages in by_subdir.items():
        (folder / subdir).mkdir(parents=True, exist_ok=True)
        doc = {"info": {"subdir": subdir}, "packages": {}, "packages.conda": packages}
        (folder / subdir / "repodata.json").write_text(json.dumps(doc))
    return folder


def write_wheel(
    folder: Path, name: str, version: str, requires: tuple[str, ...] = (), python: str = ">=3.8"
) -> Path:
    """A pure-Python wheel (PEP 427): a module, METADATA, WHEEL and a RECORD of their hashes."""
    dist = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nRequires-Python: {python}\n"
    files = {
        f"{name}/__init__.py": f'__version__ = "{version}"\n',
        f"{dist}/METADATA": metadata + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: envsync-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [f"{path},sha256={_urlsafe_sha256(text)},{len(text.encode())}" for path, text in files.items()]
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for inner, text in files.items():
            wheel.writestr(inner, text)
    return path


def _urlsafe_sha256(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
