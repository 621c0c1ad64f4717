"""envsync solve end to end, against a local channel and a local package index: the report
and exit code of a solvable spec, a conflicting pin, a pin the platform lacks, an unresolvable
pip requirement and an unreachable channel or index, in text, JSON and GitHub annotations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from envsync.errors import ExitCode
from envsync.spec.schemas import validator
from tests.helpers import IMAGE, run
from tests.solve.conftest import CHANNEL, solve_config

GOOD = f"""\
name: good
image: {IMAGE}
conda_file:
  channels: [{CHANNEL}]
  dependencies:
    - python=3.11
    - numpy=1.26
    - pip:
        - tinyapp==1.0
"""
CONFLICT = f"""\
name: clash
image: {IMAGE}
conda_file:
  channels: [{CHANNEL}]
  dependencies:
    - python=3.10
    - numpy=2.0
"""
WINDOWS_ONLY = f"""\
name: winpin
image: {IMAGE}
conda_file:
  channels: [{CHANNEL}]
  dependencies:
    - python=3.11
    - numpy=1.25
"""
PIP_TOO_OLD = f"""\
name: oldpy
image: {IMAGE}
conda_file:
  channels: [{CHANNEL}]
  dependencies:
    - python=3.10
    - pip:
        - tinyreq==1.0
        - tinyapp==1.0
"""


def write(repo: Path, name: str, text: str) -> Path:
    path = repo / "environments" / f"{name}.yml"
    path.write_text(text)
    return path


def solve_json(repo: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    """The JSON report, checked against schemas/solve.schema.json."""
    result = run(repo, "solve", "--format", "json", *args)
    doc = json.loads(result.stdout)
    assert [e.message for e in validator("solve").iter_errors(doc)] == []
    return result.exit_code, doc


def test_a_solvable_spec_reports_the_solved_versions(repo: Path) -> None:
    write(repo, "good", GOOD)
    result = run(repo, "solve")
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout.splitlines() == [
        "environments/good.yml:1:1: good: solvable on linux-64: python 3.11.9, numpy 1.26.4, tinyapp 1.0 "
        "(3 conda packages, 2 from pip)",
        "1 environment: 1 solvable, 0 unsolvable; 1 solved, 0 remembered",
    ]
    code, doc = solve_json(repo)
    (env,) = doc["environments"]
    assert code == ExitCode.OK and env["status"] == "solvable" and env["cached"] is True
    assert {(p["name"], p["version"], p["manager"]) for p in env["packages"]} == {
        ("python", "3.11.9", "conda"),
        ("numpy", "1.26.4", "conda"),
        ("pip", "24.0", "conda"),  # conda's add_pip_as_python_dependency
        ("tinyapp", "1.0", "pip"),
        ("tinyreq", "2.0", "pip"),
    }


def test_a_conflicting_pin_is_reported_at_its_line_with_both_pins(repo: Path) -> None:
    write(repo, "clash", CONFLICT)
    result = run(repo, "solve")
    assert result.exit_code == ExitCode.ERROR
    first = result.stdout.splitlines()[0]
    assert first.startswith(
        "environments/clash.yml:6:7: clash: python=3.10 and numpy=2.0 cannot be installed together on linux-64: "
    )
    assert "numpy 2.0.0 would require python >=3.11,<3.12" in first
    code, doc = solve_json(repo, "--lock")
    assert doc["locks_written"] == []
    (problem,) = doc["environments"][0]["problems"]
    assert code == ExitCode.ERROR and (problem["line"], problem["col"]) == (6, 7)


def test_a_pin_only_another_platform_has_fails_on_linux_and_solves_on_windows(repo: Path) -> None:
    write(repo, "winpin", WINDOWS_ONLY)
    result = run(repo, "solve")
    assert result.exit_code == ExitCode.ERROR
    assert result.stdout.startswith(
        "environments/winpin.yml:7:7: winpin: numpy=1.25 cannot be installed on linux-64: "
        "No candidates were found for numpy 1.25.*"
    )
    write(repo, "winpin", WINDOWS_ONLY + "os_type: windows\n")
    result = run(repo, "solve")
    assert result.exit_code == ExitCode.OK, result.output
    assert "winpin: solvable on win-64: python 3.11.9, numpy 1.25.0" in result.stdout


def test_an_unresolvable_pip_requirement_is_reported_at_its_line(repo: Path) -> None:
    write(repo, "oldpy", PIP_TOO_OLD)
    result = run(repo, "solve")
    assert result.exit_code == ExitCode.ERROR
    line = result.stdout.splitlines()[0]
    assert line.startswith(
        "environments/oldpy.yml:8:11: oldpy: tinyreq==1.0 and tinyapp==1.0 cannot be installed together on "
        "linux-64: with Python 3.10.14, because "
    )
    assert "we can conclude that your requirements are unsatisfiable" in line
    write(repo, "oldpy", PIP_TOO_OLD.replace("- tinyreq==1.0", "- tinyreq"))
    line = run(repo, "solve").stdout.splitlines()[0]
    assert line.startswith(
        "environments/oldpy.yml:9:11: oldpy: tinyapp==1.0 cannot be installed on linux-64: "
    )
    assert "with Python 3.10.14, because tinyreq==2.0 requires Python >=3.11" in line
    write(repo, "oldpy", PIP_TOO_OLD.replace("tinyapp==1.0", "nosuchpackage==1.0"))
    result = run(repo, "solve")
    assert result.stdout.startswith(
        "environments/oldpy.yml:9:11: oldpy: nosuchpackage==1.0 cannot be installed"
    )
    assert "nosuchpackage was not found in the package registry" in result.stdout


def test_github_format_annotates_the_pins_and_prints_the_rest(repo: Path) -> None:
    write(repo, "good", GOOD)
    write(repo, "clash", CONFLICT)
    result = run(repo, "solve", "--format", "github")
    assert result.exit_code == ExitCode.ERROR
    lines = result.stdout.splitlines()
    assert lines[0].startswith("::error file=environments/clash.yml,line=6,col=7,title=envsync solve::")
    assert lines[1].startswith("environments/good.yml:1:1: good: solvable on linux-64")
    assert lines[2] == "2 environments: 1 solvable, 1 unsolvable; 2 solved, 0 remembered"


def test_an_unreachable_channel_is_one_line_and_exit_1(repo: Path, index_url: str) -> None:
    (repo / "envsync.yaml").write_text(solve_config("http://127.0.0.1:9/", index_url))
    write(repo, "good", GOOD)
    for fmt in ("text", "json", "github"):
        result = run(repo, "solve", "--format", fmt)
        assert result.exit_code == ExitCode.ERROR
        assert result.stdout == ""
        assert result.stderr == (
            f"error: environments/good.yml: conda channel http://127.0.0.1:9/{CHANNEL} cannot be read "
            "(Connection refused (os error 111)): envsync solve needs the network, or a mirror "
            "(solve.conda: channel_alias / custom_channels)\n"
        )


def test_an_unreachable_index_is_one_line_and_exit_1(repo: Path, channels: Path) -> None:
    (repo / "envsync.yaml").write_text(solve_config(channels.as_uri() + "/", "http://127.0.0.1:9/simple/"))
    write(repo, "good", GOOD)
    result = run(repo, "solve", env={"UV_HTTP_RETRIES": "0"})  # the runner's setting wins over envsync's 1
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr == (
        "error: pip index http://127.0.0.1:9/simple/ cannot be read (Connection refused (os error 111)): "
        "envsync solve needs the network, or a mirror (solve.pip.index_url in envsync.yaml)\n"
    )


def test_a_warm_run_solves_nothing_again(
    repo: Path, channels: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    write(repo, "good", GOOD)
    write(repo, "clash", CONFLICT)
    assert solve_json(repo)[1]["solved"] == 2
    moved = tmp_path_factory.mktemp("away")
    shutil.move(channels / CHANNEL, moved / CHANNEL)  # a solve now would fail: none is made
    try:
        code, doc = solve_json(repo)
        assert (code, doc["solved"]) == (ExitCode.ERROR, 0)
        assert [e["cached"] for e in doc["environments"]] == [True, True]
        (repo / "environments" / "good.yml").write_text(GOOD + "description: text only\n")
        assert solve_json(repo)[1]["solved"] == 0  # the description is not what gets solved
    finally:
        shutil.move(moved / CHANNEL, channels / CHANNEL)


def test_environments_without_a_conda_spec_are_counted_not_solved(repo: Path) -> None:
    write(repo, "image-only", f"name: image-only\nimage: {IMAGE}\n")
    result = run(repo, "solve")
    assert result.exit_code == ExitCode.OK
    assert (
        result.stdout
        == "0 environments: 0 solvable, 0 unsolvable; 0 solved, 0 remembered; 1 without a conda spec\n"
    )


def test_a_local_channel_path_in_a_spec_is_a_problem_at_its_line(repo: Path) -> None:
    write(repo, "local", GOOD.replace(f"[{CHANNEL}]", "[./my-channel]"))
    result = run(repo, "solve")
    assert result.exit_code == ExitCode.ERROR
    assert result.stdout.startswith(
        "environments/local.yml:4:14: channel './my-channel' is a local path: an image build cannot read it"
    )


def test_a_pin_that_is_no_match_spec_is_reported_at_its_line(repo: Path) -> None:
    write(repo, "weird", GOOD.replace("numpy=1.26", "numpy >>1.2"))
    result = run(repo, "solve")
    assert result.exit_code == ExitCode.ERROR
    assert result.stdout.startswith(
        "environments/weird.yml:7:7: good: numpy >>1.2 cannot be installed on linux-64: numpy >>1.2: "
        "unable to parse version spec: >>1.2"
    )


@pytest.mark.parametrize(
    ("name", "text", "code", "line"),
    [
        ("good", GOOD, ExitCode.OK, None),
        ("clash", CONFLICT, ExitCode.ERROR, 6),
        ("winpin", WINDOWS_ONLY, ExitCode.ERROR, 7),
        ("oldpy", PIP_TOO_OLD, ExitCode.ERROR, 8),
    ],
)
def test_every_case_reports_alike_in_each_format(
    repo: Path, name: str, text: str, code: int, line: int | None
) -> None:
    write(repo, name, text)
    plain = run(repo, "solve", "--format", "text")
    status, doc = solve_json(repo)
    github = run(repo, "solve", "--format", "github")
    assert plain.exit_code == status == github.exit_code == code
    (env,) = doc["environments"]
    assert env["status"] == ("solvable" if line is None else "unsolvable")
    if line is None:
        assert f"{name}: solvable on linux-64: {env['summary']}" in plain.stdout
        assert f"{name}: solvable on linux-64 (remembered): {env['summary']}" in github.stdout
    else:
        (problem,) = env["problems"]
        assert problem["line"] == line
        assert plain.stdout.startswith(
            f"environments/{name}.yml:{line}:{problem['col']}: {problem['message']}\n"
        )
        assert github.stdout.startswith(
            f"::error file=environments/{name}.yml,line={line},col={problem['col']},"
        )
