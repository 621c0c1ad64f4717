"""`envsync validate` end to end through the real CLI (CliRunner) on files in tmp_path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from envsync.cli import cli

REPO = Path(__file__).resolve().parents[2]
IMAGE = "image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1\n"


def validate(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(root), "validate", *args])


def write(root: Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text)


def test_examples_print_a_summary_and_exit_0(tmp_path: Path) -> None:
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    result = validate(tmp_path)
    assert (result.exit_code, result.output) == (0, "5 environments valid\n")


def test_errors_are_one_per_line_and_exit_1(tmp_path: Path) -> None:
    write(tmp_path, "environments/a.yml", "name: a\nimgae: x\n")
    write(tmp_path, "environments/b.yml", "name: b\n" + IMAGE + "version: 1.10\nos_type: mac\n")
    result = validate(tmp_path)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "environments/a.yml:1:1: error: an environment needs 'image' (a Docker image) or 'build' (a Docker build "
        "context)",
        "environments/a.yml:2:1: error: unknown key 'imgae' (did you mean 'image'?)",
        "environments/b.yml:3:10: warning: version 1.10 is a YAML number, sent as '1.1': quote it",
        "environments/b.yml:4:10: error: os_type 'mac' must be linux or windows",
        "3 errors, 1 warning in 2 files",
    ]


def test_warnings_alone_come_before_the_summary_and_exit_0(tmp_path: Path) -> None:
    write(tmp_path, "environments/a.yml", "name: a\n" + IMAGE + "tags:\n  hpcx: 2.10\n")
    result = validate(tmp_path)
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "environments/a.yml:4:9: warning: tag 'hpcx' is a number (2.1), kept as its source text '2.10': quote it",
        "0 errors, 1 warning in 1 file; 1 environment valid",
    ]


def test_paths_select_files_and_folders(tmp_path: Path) -> None:
    write(tmp_path, "environments/good/a.yml", "name: a\n" + IMAGE)
    write(tmp_path, "environments/bad.yml", "name: bad\n")
    write(tmp_path, "elsewhere/c.yaml", "name: c\n" + IMAGE)
    assert validate(tmp_path, "environments/good", "elsewhere/c.yaml").output == "2 environments valid\n"
    assert validate(tmp_path, str(tmp_path / "environments/bad.yml")).exit_code == 1


def test_a_missing_path_is_an_error_not_a_crash(tmp_path: Path) -> None:
    result = validate(tmp_path, "nope.yml")
    assert (result.exit_code, result.output) == (
        1,
        "nope.yml:1:1: error: file not found\n1 error, 0 warnings in 1 file\n",
    )


def test_json_lists_problems_with_a_count(tmp_path: Path) -> None:
    write(tmp_path, "environments/a.yml", "name: AzureML-a\n" + IMAGE + "tags:\n  n: 1\n")
    result = validate(tmp_path, "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert (doc["valid"], doc["count"], doc["errors"], doc["environments"]) == (False, 2, 1, 0)
    assert doc["problems"][0] == {
        "path": "environments/a.yml",
        "line": 1,
        "col": 7,
        "severity": "error",
        "rule": None,
        "message": "name 'AzureML-a' starts with a prefix Azure reserves for curated environments ('AzureML', 'Microsoft')",
    }
    assert doc["problems"][1]["severity"] == "warning"


def test_json_when_valid(tmp_path: Path) -> None:
    write(tmp_path, "environments/a.yml", "name: a\n" + IMAGE)
    result = validate(tmp_path, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output) == {
        "format_version": 1,
        "valid": True,
        "environments": 1,
        "files": 1,
        "count": 0,
        "errors": 0,
        "warnings": 0,
        "problems": [],
        "suppressed": [],
    }


def test_duplicates_across_files_name_both(tmp_path: Path) -> None:
    write(tmp_path, "environments/a.yml", "name: e\nversion: '2'\n" + IMAGE)
    write(tmp_path, "environments/b.yml", "name: e\nversion: 2\n" + IMAGE)
    result = validate(tmp_path)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "environments/a.yml:1:7: error: environment 'e' version '2' is also defined in environments/b.yml",
        "environments/b.yml:1:7: error: environment 'e' version '2' is also defined in environments/a.yml",
        "2 errors, 0 warnings in 2 files",
    ]


def test_a_templated_file_gives_a_located_error_not_a_traceback(tmp_path: Path) -> None:
    write(tmp_path, "environments/t.yml", "name: t\nversion: {{MODEL_VERSION}}\n" + IMAGE)
    result = validate(tmp_path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output == (
        "environments/t.yml:2:11: error: invalid YAML: found unhashable key "
        "(looks like an unsubstituted template placeholder)\n1 error, 0 warnings in 1 file\n"
    )


def test_validate_has_help() -> None:
    result = CliRunner().invoke(cli, ["validate", "--help"])
    assert result.exit_code == 0 and "--format" in result.output and "Example:" in result.output


def test_a_path_holding_no_environment_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = validate(tmp_path, "empty")
    assert (result.exit_code, result.output.splitlines()[0]) == (
        1,
        "empty:1:1: error: holds no environment YAML (no .yml or .yaml file)",
    )


def test_conda_files_and_other_yamls_are_named_as_such(tmp_path: Path) -> None:
    write(
        tmp_path, "environments/conda.yml", "name: sk\nchannels: [conda-forge]\ndependencies: [python=3.10]\n"
    )
    write(
        tmp_path,
        "jobs/train.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n",
    )
    result = validate(tmp_path, "environments/conda.yml", "jobs/train.yml")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "environments/conda.yml:1:1: error: not an environment YAML: a conda file (channels and dependencies); "
        "an environment uses it with `conda_file: PATH`",
        "jobs/train.yml:1:1: error: not an environment YAML: a 'commandJob' YAML (its $schema)",
        "2 errors, 0 warnings in 2 files",
    ]


def test_dangling_symlinks_are_reported(tmp_path: Path) -> None:
    write(tmp_path, "environments/a.yml", "name: a\n" + IMAGE)
    (tmp_path / "environments" / "gone.yml").symlink_to(tmp_path / "nowhere.yml")
    found = validate(tmp_path)
    assert found.exit_code == 0, found.output
    assert found.output.splitlines() == [
        "environments/gone.yml:1:1: warning: a symlink to a missing file; not checked",
        "0 errors, 1 warning in 2 files; 1 environment valid",
    ]
    given = validate(tmp_path, "environments/gone.yml")
    assert given.exit_code == 1
    assert (
        given.output.splitlines()[0]
        == "environments/gone.yml:1:1: error: a symlink to a missing file; not checked"
    )
    assert (
        validate(tmp_path, "environments")
        .output.splitlines()[0]
        .endswith("warning: a symlink to a missing file; not checked")
    )
