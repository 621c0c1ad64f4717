"""docs/solve.md cannot rot: its scheduled workflow passes actionlint and SchemaStore's schema,
and the envsync command lines in it exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import jsonschema
import yaml

from tests.test_actionlint import lint
from tests.test_workflows import ROOT, check_args, schema

DOC = (ROOT / "docs" / "solve.md").read_text()


def workflow() -> str:
    found = re.search(r"```yaml\n(name: envsync solve --lock --update\n.*?)```", DOC, re.S)
    assert found is not None
    return found.group(1)


def test_the_documented_workflow_passes_actionlint(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "solve-update.yml").write_text(workflow())
    done = lint(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Checking 1 workflow file(s)..." in done.stdout


def test_the_documented_workflow_matches_schemastore_and_runs_real_commands() -> None:
    doc = yaml.safe_load(workflow().replace("\non:", '\n"on":'))
    assert not list(jsonschema.Draft7Validator(schema("github-workflows.json")).iter_errors(doc))
    scripts = [s["run"] for job in doc["jobs"].values() for s in job["steps"] if "run" in s]
    lines = [
        shlex.split(line.split("|")[0])
        for s in scripts
        for line in s.splitlines()
        if line.strip().startswith("envsync ")
    ]
    assert lines == [["envsync", "solve", "--lock", "--update", "--format", "github"]]
    assert all(check_args(line[1:]) == [] for line in lines)
