"""Small builders shared by end-to-end tests: environment folders on disk, CLI invocations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import git
import yaml
from click.testing import CliRunner, Result

from envsync.cli import cli

IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1"


def write_env(root: Path, name: str, **fields: Any) -> Path:
    """environments/<name>.yml with `fields` (image defaults to a real base image)."""
    if "build" not in fields:
        fields.setdefault("image", IMAGE)
    path = root / "environments" / f"{name}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"name": name, **fields}, sort_keys=False))
    return path


def write_context(root: Path, name: str, dockerfile: str = "FROM python:3.11-slim\n") -> Path:
    """A build context folder environments/<name>/ holding a Dockerfile and requirements.txt."""
    folder = root / "environments" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(dockerfile + "COPY requirements.txt .\n")
    (folder / "requirements.txt").write_text("numpy==1.26.4\n")
    return folder


def run(root: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["-C", str(root), *args], env=env, input=input)


def sample_repo(root: Path) -> Path:
    """Three environments: an image, image + conda, and a build context."""
    write_env(root, "base-cpu", version="1", description="Base image", tags={"team": "ml"})
    write_env(
        root,
        "sklearn",
        conda_file={
            "name": "sk",
            "channels": ["conda-forge"],
            "dependencies": ["python=3.10", {"pip": ["scikit-learn==1.5.0"]}],
        },
    )
    write_context(root, "torch")
    write_env(root, "torch", build={"path": "torch"})
    return root


def commit(repo: git.Repo, message: str) -> str:
    """Stage everything and commit (hooks skipped); the new HEAD's SHA."""
    repo.git.add(A=True)
    repo.git.commit(m=message, no_verify=True)
    return repo.head.commit.hexsha
