"""The pure parts of a solve: settings → channel URLs, image → platform, solver words → one
line and the pins they name, and the summary of a solve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envsync.solve import render
from envsync.solve.model import Answer, Manager, Outcome, Package
from envsync.solve.platform import platform_of
from envsync.solve.request import request
from envsync.solve.run import SolveRun
from envsync.solve.words import mentioned, one_line, root_cause
from envsync.spec.model import EnvironmentSpec
from envsync.spec.solving import DEFAULT_CHANNELS, SolveSettings, solve_settings

RATTLER = (
    "Cannot solve the request because of: numpy 2.* cannot be installed because there are no viable options:\n"
    "└─ numpy 2.0.0 would require\n"
    "   └─ python >=3.11,<3.12, for which no candidates were found.\n"
)


def test_channel_names_follow_conda_custom_channels_then_the_alias() -> None:
    settings = solve_settings(
        {
            "conda": {
                "channel_alias": "https://mirror.example/conda/",
                "custom_channels": {"internal": "https://art.example/c"},
            }
        }
    )
    assert settings.channel_urls("conda-forge") == ("https://mirror.example/conda/conda-forge",)
    assert settings.channel_urls("internal") == ("https://art.example/c/internal",)
    assert settings.channel_urls("https://x.example/ch/") == ("https://x.example/ch",)
    assert settings.channel_urls("defaults") == DEFAULT_CHANNELS
    assert settings.channel_urls("nodefaults") == ()


def test_settings_digest_changes_with_what_a_solve_depends_on_only() -> None:
    base = SolveSettings()
    assert base.digest == SolveSettings(timeout=5).digest
    assert base.digest != SolveSettings(index_url="https://pypi.example/simple").digest


@pytest.mark.parametrize(
    ("image", "os_type", "subdir", "glibc", "cuda", "pip"),
    [
        (
            "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:1",
            "linux",
            "linux-64",
            "2.35",
            None,
            "x86_64-manylinux_2_35",
        ),
        (
            "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04",
            "linux",
            "linux-64",
            "2.35",
            "11.8",
            "x86_64-manylinux_2_35",
        ),
        (
            "mcr.microsoft.com/azureml/openmpi3.1.2-ubuntu18.04",
            "linux",
            "linux-64",
            "2.27",
            None,
            "x86_64-manylinux_2_17",
        ),
        (
            "mcr.microsoft.com/azureml/minimal-py312-inference:latest",
            "linux",
            "linux-64",
            "2.35",
            None,
            "x86_64-manylinux_2_35",
        ),
        (
            "mcr.microsoft.com/windows/servercore:ltsc2022",
            "windows",
            "win-64",
            None,
            None,
            "x86_64-pc-windows-msvc",
        ),
    ],
)
def test_the_platform_comes_from_the_image(
    image: str, os_type: str, subdir: str, glibc: str | None, cuda: str | None, pip: str
) -> None:
    found = platform_of(image, os_type)
    virtual = {name: version for name, version, _ in found.virtual}
    assert (found.subdir, virtual.get("__glibc"), virtual.get("__cuda"), found.pip) == (
        subdir,
        glibc,
        cuda,
        pip,
    )


def test_solver_words_become_one_line_naming_the_requested_pins() -> None:
    assert one_line(RATTLER) == (
        "numpy 2.* cannot be installed because there are no viable options: numpy 2.0.0 would require "
        "python >=3.11,<3.12, for which no candidates were found."
    )
    assert mentioned(RATTLER, ["pip", "python", "numpy", "num"]) == ("python", "numpy")
    assert len(one_line("x" * 5000)) == 600


def test_the_root_cause_of_a_chained_error() -> None:
    text = "error sending request (http://h/x)\nCaused by: client error (Connect)\nCaused by: dns error"
    assert root_cause(text) == "dns error"


def test_a_summary_names_the_requested_versions_then_counts() -> None:
    packages = (
        Package("python", "3.11.9"),
        Package("libzlib", "1.3"),
        Package("requests", "2.32.3", Manager.PIP),
    )
    outcome = Outcome(
        "e", "e.yml", 1, "linux-64", Answer(packages), requested=("python", "pip:requests", "pip:absent")
    )
    assert outcome.summary == "python 3.11.9, requests 2.32.3 (2 conda packages, 1 from pip)"


def test_a_request_locates_every_pin_and_notes_what_it_cannot_check(tmp_path: Path) -> None:
    source = tmp_path / "env.yml"
    source.write_text(
        "name: e\nconda_file:\n  channels: [conda-forge]\n  dependencies:\n    - conda-forge::python=3.11\n"
        "    - pip:\n        - requests==2.32.3\n        - --index-url https://evil.example/simple\n        - ./local\n"
    )
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [
            "conda-forge::python=3.11",
            {"pip": ["requests==2.32.3", "--index-url https://evil.example/simple", "./local"]},
        ],
    }
    asked = request(EnvironmentSpec(name="e", source=source, conda=conda), SolveSettings(), tmp_path)
    located = [(p.name, *asked.where.at(p.key)) for p in (*asked.conda, *asked.pip)]
    assert located == [("python", "env.yml", 5, 7), ("pip:requests", "env.yml", 7, 11)]
    assert asked.channels == ("https://conda.anaconda.org/conda-forge",)
    assert len(asked.notes) == 2 and "--index-url" in asked.notes[0]


def test_names_a_channel_supplies_are_escaped_in_text_and_kept_in_json() -> None:
    version = "3.11\x1b]8;;https://evil.example\x07"  # an OSC hyperlink, from a channel's repodata
    outcome = Outcome(
        "e", "e.yml", 1, "linux-64", Answer((Package("python", version),)), requested=("python",)
    )
    run = SolveRun((outcome,), (), 1)
    shown = render.text(run)
    assert "\x1b" not in shown and "\\x1b]8;;https://evil.example" in shown
    assert json.loads(render.to_json(run))["environments"][0]["packages"][0]["version"] == version
