"""A changed build context, planned from a real git repository: which files changed, in text,
Markdown and JSON; and why they cannot be listed when the old files are unknowable."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import git

from envsync.errors import ExitCode
from envsync.spec.schemas import validator
from envsync.workspace.local.workspace import LocalWorkspace
from tests.helpers import commit, run, write_env


def _edit_context(root: Path) -> None:
    folder = root / "environments" / "torch"
    (folder / "requirements.txt").write_text("numpy==2.0.0\n")  # modified
    (folder / "train.py").write_text("print('train')\n")  # added, untracked
    (folder / "Dockerfile").rename(folder / "gpu.Dockerfile")  # removed, and one added
    write_env(root, "torch", build={"path": "torch", "dockerfile_path": "gpu.Dockerfile"})


def test_plan_lists_the_changed_files_in_text_markdown_and_json(git_sample: git.Repo) -> None:
    root = Path(git_sample.working_tree_dir or ".")
    assert run(root, "apply", "--auto-approve").exit_code == ExitCode.OK
    applied = git_sample.head.commit.hexsha
    _edit_context(root)
    text = run(root, "plan").stdout
    assert f"~ build: environments/torch, files changed since commit {applied[:12]}:" in text
    block = text.split("+ torch:2", 1)[1]
    assert block.index("+ gpu.Dockerfile") < block.index("~ requirements.txt") < block.index("+ train.py")
    assert "- Dockerfile" in block and "~ build.dockerfile_path: Dockerfile → gpu.Dockerfile" in block
    assert "  (context " in block and '"context":' not in block  # the digest only as a detail
    markdown = run(root, "plan", "--format", "markdown").stdout
    assert "gpu.Dockerfile" in markdown and "requirements.txt" in markdown
    doc = json.loads(run(root, "plan", "--format", "json").stdout)
    validator("plan").validate(doc)
    [change] = [c for c in doc["changes"] if c["name"] == "torch"]
    assert change["context_files"] == {
        "added": ["gpu.Dockerfile", "train.py"],
        "removed": ["Dockerfile"],
        "modified": ["requirements.txt"],
        "basis": f"commit {applied[:12]}",
        "unknown": "",
    }


def test_a_new_environment_lists_its_files(git_sample: git.Repo) -> None:
    root = Path(git_sample.working_tree_dir or ".")
    out = run(root, "plan").stdout
    block = out.split("+ torch:1", 1)[1].split("\n\n", 1)[0]
    assert "+ build: environments/torch (context " in block
    assert "  + Dockerfile" in block and "  + requirements.txt" in block


def test_files_unknown_are_said_to_be_unknown(git_sample: git.Repo) -> None:
    root = Path(git_sample.working_tree_dir or ".")
    assert run(root, "apply", "--auto-approve").exit_code == ExitCode.OK
    ws = LocalWorkspace(root / ".envsync" / "workspace.db")
    made = ws.get_version("torch", "1")
    assert made is not None
    props = {k: v for k, v in made.body.properties.items() if k != "envsync.commit"}
    ws.create_version("torch", "2", replace(made.body, properties=props))  # as if made by hand
    _edit_context(root)
    commit(git_sample, "edit")
    out = run(root, "plan").stdout
    assert "its files cannot be listed: version 2 was not created by envsync from git" in out
