"""Loading valid environment YAMLs: resolved values, discovery, fingerprints, conda packages."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from envsync.config import Config
from envsync.content.context import context_digest
from envsync.spec.conda import conda_packages
from envsync.spec.load import EnvironmentSpec, Severity, find_spec_files, load_all, load_spec

REPO = Path(__file__).resolve().parents[1]
IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1"
CONDA = (
    "name: c\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - pip:\n      - numpy==1.26.4\n"
)


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load_ok(path: Path, root: Path, **kwargs: object) -> EnvironmentSpec:
    spec, problems = load_spec(path, root=root, **kwargs)  # type: ignore[arg-type]
    assert spec is not None, [str(p) for p in problems]
    assert not [p for p in problems if p.severity is Severity.ERROR]
    return spec


def test_examples_are_valid() -> None:
    result = load_all(Config(root=REPO))
    assert result.problems == ()
    by_name = {s.name: s for s in result.specs}
    assert sorted(by_name) == ["lightgbm-cpu", "minimal-cpu", "pytorch-train", "sklearn-cpu", "sklearn-serve"]
    assert by_name["minimal-cpu"].version == "1" and by_name["pytorch-train"].version is None
    assert by_name["sklearn-cpu"].conda_source == REPO / "environments/sklearn-cpu/conda.yml"
    build = by_name["pytorch-train"].build
    assert build is not None and build.digest == context_digest(REPO / "environments/pytorch-train")
    assert by_name["sklearn-serve"].inference_config == {
        "livenessRoute": {"path": "/health/live", "port": 8000},
        "readinessRoute": {"path": "/health/ready", "port": 8000},
        "scoringRoute": {"path": "/score", "port": 8000},
    }


def test_schema_is_valid_2020_12_and_accepts_the_examples() -> None:
    schema = json.loads((REPO / "schemas/environment.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for path in sorted((REPO / "environments").glob("*.yml")):
        jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(path.read_text()))


def test_every_field_is_resolved(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "environments/e.yml",
        (
            "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
            f"name: e\nversion: 7\ndescription: >\n  folded\ntags: {{a: b}}\nimage: {IMAGE}\n"
            "os_type: Windows\ndatastore: blobs\nconda_file:\n  dependencies: [python=3.11]\n"
        ),
    )
    spec = load_ok(path, tmp_path)
    assert (spec.name, spec.version, spec.description, dict(spec.tags)) == ("e", "7", "folded\n", {"a": "b"})
    assert (spec.image, spec.os_type, spec.datastore, spec.line) == (IMAGE, "windows", "blobs", 2)
    assert spec.conda == {"dependencies": ["python=3.11"]} and spec.conda_source is None
    assert spec.source == path


def test_remote_build_context_is_not_checked_locally(tmp_path: Path) -> None:
    url = "https://acct.blob.core.windows.net/azureml/LocalUpload/" + "a" * 64 + "/ctx/"
    path = write(
        tmp_path, "environments/e.yml", f"name: e\nbuild:\n  path: {url}\n  dockerfile_path: ./Dockerfile\n"
    )
    build = load_ok(path, tmp_path).build
    assert build is not None and (build.path, build.dockerfile_path, build.remote) == (
        url,
        "Dockerfile",
        True,
    )


def test_build_local_path_is_accepted_with_a_deprecation_warning(tmp_path: Path) -> None:
    write(tmp_path, "environments/ctx/Dockerfile", "FROM python:3.11\n")
    path = write(tmp_path, "environments/e.yml", "name: e\nbuild:\n  local_path: ctx\n")
    spec, problems = load_spec(path, root=tmp_path)
    assert (
        spec is not None and spec.build is not None and spec.build.path == str(tmp_path / "environments/ctx")
    )
    assert [str(p) for p in problems] == [
        "environments/e.yml:3:3: warning: build.local_path is the pre-GA name of build.path, which current "
        "az ml rejects: rename it to path (envsync accepts both)"
    ]


def test_legacy_file_prefix_on_conda_file_is_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "environments/conda.yml", CONDA)
    path = write(tmp_path, "environments/e.yml", f"name: e\nimage: {IMAGE}\nconda_file: file:conda.yml\n")
    spec, problems = load_spec(path, root=tmp_path)
    assert spec is not None and spec.conda_source == tmp_path / "environments/conda.yml"
    assert [p.severity for p in problems] == [Severity.WARNING] and "write conda_file: conda.yml" in problems[
        0
    ].message


def test_conda_file_may_escape_the_yaml_folder(tmp_path: Path) -> None:
    write(tmp_path, "data-science/env/conda.yml", CONDA)
    path = write(
        tmp_path,
        "mlops/train/env.yml",
        f"name: e\nimage: {IMAGE}\nconda_file: ../../data-science/env/conda.yml\n",
    )
    assert load_ok(path, tmp_path).conda["dependencies"][0] == "python=3.11"


def test_text_and_read_file_replace_the_disk(tmp_path: Path) -> None:
    path = tmp_path / "environments/e.yml"  # does not exist on disk
    text = f"name: at-ref\nimage: {IMAGE}\nconda_file: c.yml\n"
    seen: list[Path] = []

    def read_file(p: Path) -> str:
        seen.append(p)
        return CONDA

    spec = load_ok(path, tmp_path, text=text, read_file=read_file)
    assert spec.name == "at-ref" and seen == [tmp_path / "environments/c.yml"]
    assert spec.conda["channels"] == ["conda-forge"]


def test_read_file_failure_is_a_missing_conda_file(tmp_path: Path) -> None:
    def missing(p: Path) -> str:
        raise FileNotFoundError(p)

    spec, problems = load_spec(
        tmp_path / "e.yml",
        root=tmp_path,
        text=f"name: e\nimage: {IMAGE}\nconda_file: c.yml\n",
        read_file=missing,
    )
    assert spec is None and [str(p) for p in problems] == ["e.yml:3:13: conda file 'c.yml' not found"]


def test_paths_outside_the_root_are_shown_as_given(tmp_path: Path) -> None:
    path = write(tmp_path, "elsewhere/e.yml", "name: e\n")
    _, problems = load_spec(path, root=tmp_path / "repo")
    assert problems[0].path == str(path)


# -- discovery


def test_find_spec_files_is_sorted_and_deduplicated(tmp_path: Path) -> None:
    for rel in (
        "environments/b.yml",
        "environments/a.yaml",
        "environments/sub/c.yml",
        "other/d.yml",
        "environments/x.txt",
    ):
        write(tmp_path, rel, "")
    config = Config(root=tmp_path)
    rel = [p.relative_to(tmp_path).as_posix() for p in find_spec_files(config)]
    assert rel == ["environments/a.yaml", "environments/b.yml", "environments/sub/c.yml"]
    given = find_spec_files(config, [Path("other/d.yml"), tmp_path / "environments/sub", Path("other/d.yml")])
    assert [p.relative_to(tmp_path).as_posix() for p in given] == ["environments/sub/c.yml", "other/d.yml"]


def test_custom_globs_from_the_config(tmp_path: Path) -> None:
    write(tmp_path, "envs/a.yml", f"name: a\nimage: {IMAGE}\n")
    write(tmp_path, "environments/b.yml", "not: an env\n")
    result = load_all(Config(root=tmp_path, environments=("envs/*.yml",)))
    assert [s.name for s in result.specs] == ["a"] and result.problems == ()


def test_conda_files_and_context_files_are_inputs_not_environments(tmp_path: Path) -> None:
    write(tmp_path, "environments/sk/conda.yml", CONDA)
    write(tmp_path, "environments/sk.yml", f"name: sk\nimage: {IMAGE}\nconda_file: sk/conda.yml\n")
    write(tmp_path, "environments/torch/Dockerfile", "FROM python:3.11\n")
    write(tmp_path, "environments/torch/config.yaml", "lr: 0.1\n")
    write(tmp_path, "environments/torch.yml", "name: torch\nbuild:\n  path: torch\n")
    write(tmp_path, "environments/self/Dockerfile", "FROM python:3.11\n")
    write(tmp_path, "environments/self/env.yml", "name: self\nbuild:\n  path: .\n")  # its own context
    result = load_all(Config(root=tmp_path))
    assert [p.message[:42] for p in result.problems] == ["this YAML is inside its own build context:"]
    assert sorted(s.name for s in result.specs) == ["self", "sk", "torch"]


def test_same_name_with_different_versions_is_fine(tmp_path: Path) -> None:
    write(tmp_path, "environments/v1.yml", f"name: e\nversion: '1'\nimage: {IMAGE}\n")
    write(tmp_path, "environments/v2.yml", f"name: e\nversion: '2'\nimage: {IMAGE}\n")
    assert len(load_all(Config(root=tmp_path)).specs) == 2


def test_a_conda_file_shared_by_two_environments_reports_its_problem_once(tmp_path: Path) -> None:
    write(tmp_path, "environments/c/conda.yml", "dependencies: python\n")
    for name in ("a", "b"):
        write(
            tmp_path, f"environments/{name}.yml", f"name: {name}\nimage: {IMAGE}\nconda_file: c/conda.yml\n"
        )
    errors = load_all(Config(root=tmp_path)).errors
    assert [f"{p.path}:{p.line}:{p.col}" for p in errors] == ["environments/c/conda.yml:1:15"]


# -- fingerprints


def fingerprint_of(tmp_path: Path, body: str, files: dict[str, str | bytes] | None = None) -> str:
    folder = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
    for rel, content in (files or {}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (folder / rel).write_bytes(content)
        else:
            (folder / rel).write_text(content)
    return load_ok(write(folder, "e.yml", body), folder).fingerprint


BASE = f"name: e\nimage: {IMAGE}\nconda_file:\n  name: c\n  channels: [conda-forge]\n  dependencies: [python=3.11, {{pip: [numpy==1.26.4]}}]\n"


@pytest.mark.parametrize(
    ("body", "files"),
    [
        pytest.param(  # key order, comments and formatting
            f"# comment\nimage: {IMAGE}  # pinned\nname: e\nconda_file:\n  dependencies:\n    - python=3.11\n"
            "    - pip:\n        - numpy==1.26.4\n  channels:\n    - conda-forge\n  name: c\n",
            None,
            id="reordered-commented-reformatted",
        ),
        pytest.param(
            BASE.replace("conda_file:\n", "description: new\ntags: {a: b}\nversion: '9'\nconda_file:\n"),
            None,
            id="description-tags-version-are-not-content",
        ),
        pytest.param(
            f"name: e\nimage: {IMAGE}\nconda_file: conda.yml\n", {"conda.yml": CONDA}, id="conda-file"
        ),
        pytest.param(
            f"name: e\nimage: {IMAGE}\nconda_file: conda.yml\n",
            {"conda.yml": CONDA.replace("\n", "\r\n").encode()},
            id="conda-file-crlf",
        ),
        pytest.param(BASE.replace("name: e", "name: other"), None, id="name-is-not-content"),
        pytest.param(BASE + "os_type: LINUX\n", None, id="default-os-type"),
    ],
)
def test_same_content_same_fingerprint(
    tmp_path: Path, body: str, files: dict[str, str | bytes] | None
) -> None:
    assert fingerprint_of(tmp_path, body, files) == fingerprint_of(tmp_path, BASE)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            BASE.replace("[python=3.11, {pip: [numpy==1.26.4]}]", "[{pip: [numpy==1.26.4]}, python=3.11]"),
            id="dependency-order",
        ),
        pytest.param(BASE.replace("python=3.11", "python=3.12"), id="dependency-pin"),
        pytest.param(BASE.replace(":20240709.v1", ":20240801.v1"), id="image-tag"),
        pytest.param(BASE + "os_type: windows\n", id="os-type"),
    ],
)
def test_changed_content_changes_the_fingerprint(tmp_path: Path, body: str) -> None:
    assert fingerprint_of(tmp_path, body) != fingerprint_of(tmp_path, BASE)


def test_build_context_content_and_dockerfile_path_are_fingerprinted(tmp_path: Path) -> None:
    body = "name: e\nbuild:\n  path: ctx\n"
    files = {"ctx/Dockerfile": "FROM python:3.11\n", "ctx/Other": "FROM python:3.11\n"}
    base = fingerprint_of(tmp_path, body, files)
    assert fingerprint_of(tmp_path, body + "description: d\n", files) == base
    assert fingerprint_of(tmp_path, body + "  dockerfile_path: /Dockerfile\n", files) == base
    assert fingerprint_of(tmp_path, body + "  dockerfile_path: Other\n", files) != base
    assert fingerprint_of(tmp_path, body, {**files, "ctx/Dockerfile": "FROM python:3.12\n"}) != base


# -- conda packages


def test_conda_packages_maps_names_to_specs() -> None:
    conda = yaml.safe_load(
        "dependencies:\n  - python=3.10\n  - conda-forge::NumPy>=1.26\n  - pip\n  - pip:\n    - numpy==1.26.4\n"
        "    - Scikit_Learn[all] >= 1.5\n    - --extra-index-url https://pypi.example/simple\n"
        "    - git+https://github.com/org/repo@main#egg=my_pkg&subdirectory=src\n    - torch @ https://x/torch.whl\n"
    )
    assert conda_packages(conda) == {
        "python": "python=3.10",
        "numpy": "conda-forge::NumPy>=1.26",
        "pip": "pip",
        "pip:numpy": "numpy==1.26.4",
        "pip:scikit-learn": "Scikit_Learn[all] >= 1.5",
        "pip:--extra-index-url https://pypi.example/simple": "--extra-index-url https://pypi.example/simple",
        "pip:my-pkg": "git+https://github.com/org/repo@main#egg=my_pkg&subdirectory=src",
        "pip:torch": "torch @ https://x/torch.whl",
    }


@pytest.mark.parametrize("conda", [None, "text", [], {"dependencies": "python"}, {}])
def test_conda_packages_of_a_non_spec_is_empty(conda: object) -> None:
    assert conda_packages(conda) == {}


def test_a_problem_names_its_rule_after_the_message() -> None:
    from envsync.spec.problems import Problem, problem_json

    found = Problem("e.yml", 3, 8, "moving tag", Severity.WARNING, rule="image-mutable-tag")
    assert str(found) == "e.yml:3:8: warning: moving tag [image-mutable-tag]"
    assert str(Problem("e.yml", 1, 1, "bad")) == "e.yml:1:1: bad"
    assert problem_json(found)["rule"] == "image-mutable-tag"
    assert problem_json(Problem("e.yml", 1, 1, "bad"))["rule"] is None
