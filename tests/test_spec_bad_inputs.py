"""Bad environment YAMLs: each gives an error naming file:line:col, and never a traceback."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from envsync.config import Config
from envsync.spec.load import Severity, load_all

IMG = "image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1\n"
DOCKERFILE = "FROM python:3.11-slim\n"


@dataclass(frozen=True)
class Link:
    """A symlink to `target` (relative to the link's folder)."""

    target: str


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | bytes | Link]
    where: str  # "path:line:col" of the expected error
    message: str  # a substring of its message


def write_tree(root: Path, files: dict[str, str | bytes | Link]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Link):
            os.symlink(content.target, path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def env(body: str, name: str = "e") -> dict[str, str | bytes | Link]:
    return {f"environments/{name}.yml": body}


def ctx(body: str, **files: str | Link) -> dict[str, str | bytes | Link]:
    tree: dict[str, str | bytes | Link] = {"environments/e.yml": body}
    tree.update({f"environments/ctx/{k.replace('__', '/')}": v for k, v in files.items()})
    return tree


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdef", "bcdefg", strict=True)
)

CASES = [
    # -- not loadable as YAML at all
    Case("malformed-yaml", env("name: e\nimage: [a, b\n"), "environments/e.yml:3:1", "invalid YAML"),
    Case("alias-bomb", env(BOMB), "environments/e.yml:5:4", "alias bomb"),
    Case(
        "over-1-MiB",
        env("name: e\n" + IMG + "# " + "x" * (1024 * 1024) + "\n"),
        "environments/e.yml:1:1",
        "over the 1 MiB limit",
    ),
    Case("not-utf8", {"environments/e.yml": b"name: caf\xe9\n"}, "environments/e.yml:1:1", "not UTF-8"),
    Case(
        "duplicate-key",
        env("name: e\n" + IMG + "name: f\n"),
        "environments/e.yml:3:1",
        "duplicate key 'name'",
    ),
    Case("top-level-list", env("- name: e\n"), "environments/e.yml:1:1", "must be a mapping"),
    Case("empty-file", env(""), "environments/e.yml:1:1", "not empty"),
    Case(
        "templated-unparseable",
        env("name: e\nversion: {{MODEL_VERSION}}\n" + IMG),
        "environments/e.yml:2:11",
        "found unhashable key (looks like an unsubstituted template placeholder)",
    ),
    # -- name
    Case("missing-name", env(IMG), "environments/e.yml:1:1", "missing required key 'name'"),
    Case(
        "bad-name-chars",
        env("name: my env.1\n" + IMG),
        "environments/e.yml:1:7",
        "not a valid environment name",
    ),
    Case("name-too-long", env(f"name: {'n' * 256}\n" + IMG), "environments/e.yml:1:7", "1-255 letters"),
    Case(
        "name-not-string",
        env("name: [a]\n" + IMG),
        "environments/e.yml:1:7",
        "name must be a string, not a list",
    ),
    Case(
        "reserved-azureml",
        env("name: AzureML-sklearn\n" + IMG),
        "environments/e.yml:1:7",
        "reserves for curated",
    ),
    Case("reserved-microsoft", env("name: Microsoft_env\n" + IMG), "environments/e.yml:1:7", "'Microsoft'"),
    Case(
        "templated-name",
        env("name: ${TRAINING_ENV_NAME}\n" + IMG),
        "environments/e.yml:1:7",
        "template placeholder",
    ),
    # -- image / build combinations
    Case(
        "image-and-build",
        ctx("name: e\n" + IMG + "build:\n  path: ctx\n", Dockerfile=DOCKERFILE),
        "environments/e.yml:3:1",
        "not both",
    ),
    Case(
        "neither-image-nor-build", env("name: e\nversion: '1'\n"), "environments/e.yml:1:1", "needs 'image'"
    ),
    Case(
        "conda-with-build",
        ctx("name: e\nbuild:\n  path: ctx\nconda_file: c.yml\n", Dockerfile=DOCKERFILE),
        "environments/e.yml:4:1",
        "conda_file can only be used with 'image'",
    ),
    Case(
        "templated-image",
        env("name: e\nimage: ${BASE_IMAGE}\n"),
        "environments/e.yml:2:8",
        "template placeholder",
    ),
    # -- conda
    Case(
        "missing-conda-file",
        env("name: e\n" + IMG + "conda_file: conda.yml\n"),
        "environments/e.yml:3:13",
        "conda file 'conda.yml' not found",
    ),
    Case(
        "templated-conda-path",
        env("name: e\n" + IMG + "conda_file: ${CONDA_ENV_PATH}\n"),
        "environments/e.yml:3:13",
        "conda file '${CONDA_ENV_PATH}' not found (looks like an unsubstituted template placeholder)",
    ),
    Case(
        "conda-file-is-folder",
        {**env("name: e\n" + IMG + "conda_file: sub\n"), "environments/sub/x.txt": "x"},
        "environments/e.yml:3:13",
        "is a folder",
    ),
    Case(
        "conda-file-not-mapping",
        {**env("name: e\n" + IMG + "conda_file: c.conda\n"), "environments/c.conda": "- python\n"},
        "environments/c.conda:1:1",
        "conda spec must be a mapping",
    ),
    Case(
        "conda-file-bad-yaml",
        {**env("name: e\n" + IMG + "conda_file: c.conda\n"), "environments/c.conda": "name: [x\n"},
        "environments/c.conda:2:1",
        "conda file: invalid YAML",
    ),
    Case(
        "conda-deps-not-list",
        {
            **env("name: e\n" + IMG + "conda_file: c.conda\n"),
            "environments/c.conda": "name: c\ndependencies: python=3.11\n",
        },
        "environments/c.conda:2:15",
        "conda dependencies must be a list",
    ),
    Case(
        "conda-dep-number",
        env("name: e\n" + IMG + "conda_file:\n  dependencies:\n    - python=3.11\n    - 3.8\n"),
        "environments/e.yml:6:7",
        "conda dependency 3.8 must be a string",
    ),
    Case(
        "conda-pip-not-list",
        env("name: e\n" + IMG + "conda_file:\n  dependencies:\n    - pip: numpy\n"),
        "environments/e.yml:5:12",
        "pip dependencies must be a list",
    ),
    Case(
        "conda-other-mapping",
        env("name: e\n" + IMG + "conda_file:\n  dependencies:\n    - conda: [x]\n"),
        "environments/e.yml:5:7",
        "only a 'pip:' list",
    ),
    Case(
        "conda-channels-not-list",
        env("name: e\n" + IMG + "conda_file:\n  channels: conda-forge\n"),
        "environments/e.yml:4:13",
        "conda channels must be a list",
    ),
    Case(
        "conda-file-number",
        env("name: e\n" + IMG + "conda_file: 3\n"),
        "environments/e.yml:3:13",
        "conda_file must be a string or a mapping, not an integer",
    ),
    # -- build
    Case(
        "build-folder-missing",
        env("name: e\nbuild:\n  path: nowhere\n"),
        "environments/e.yml:3:9",
        "build context folder 'nowhere' not found",
    ),
    Case(
        "templated-build-path",
        env('name: e\nbuild:\n  path: "{{image.context.path}}"\n'),
        "environments/e.yml:3:9",
        "not found (looks like an unsubstituted template placeholder)",
    ),
    Case(
        "dockerfile-missing",
        ctx("name: e\nbuild:\n  path: ctx\n", **{"requirements.txt": "x\n"}),
        "environments/e.yml:3:9",
        "Dockerfile 'Dockerfile' not found in build context 'ctx'",
    ),
    Case(
        "dockerfile-escapes",
        ctx("name: e\nbuild:\n  path: ctx\n  dockerfile_path: ../Dockerfile\n", **{"requirements.txt": "x\n"})
        | {"environments/Dockerfile": DOCKERFILE},
        "environments/e.yml:4:20",
        "outside the build context",
    ),
    Case(
        "build-path-is-file",
        {**env("name: e\nbuild:\n  path: Dockerfile\n"), "environments/Dockerfile": DOCKERFILE},
        "environments/e.yml:3:9",
        "is a file",
    ),
    Case(
        "dockerfile-symlink-outside",
        ctx("name: e\nbuild:\n  path: ctx\n", Dockerfile=Link("../../Dockerfile.real"))
        | {"Dockerfile.real": DOCKERFILE},
        "environments/e.yml:3:9",
        "symlink to outside the build context",
    ),
    Case(
        "context-symlink-outside",
        ctx("name: e\nbuild:\n  path: ctx\n", Dockerfile=DOCKERFILE, secret=Link("../../secret.txt"))
        | {"secret.txt": "s"},
        "environments/e.yml:3:9",
        "build context:",
    ),
    Case(
        "build-without-path",
        env("name: e\nbuild:\n  dockerfile_path: Dockerfile\n"),
        "environments/e.yml:3:3",
        "build needs 'path'",
    ),
    Case(
        "build-path-and-local-path",
        ctx("name: e\nbuild:\n  path: ctx\n  local_path: ctx\n", Dockerfile=DOCKERFILE),
        "environments/e.yml:4:3",
        "not both",
    ),
    Case(
        "build-unsupported-scheme",
        env("name: e\nbuild:\n  path: azureml://datastores/x/paths/ctx\n"),
        "environments/e.yml:3:9",
        "only local folders and http(s) URLs",
    ),
    Case(
        "build-unknown-key",
        ctx("name: e\nbuild:\n  path: ctx\n  dockerfile: Dockerfile\n", Dockerfile=DOCKERFILE),
        "environments/e.yml:4:3",
        "unknown key 'build.dockerfile' (did you mean 'dockerfile_path'?)",
    ),
    # -- unknown and legacy keys
    Case(
        "typo-did-you-mean",
        env("name: e\nimgae: x\n"),
        "environments/e.yml:2:1",
        "unknown key 'imgae' (did you mean 'image'?)",
    ),
    Case(
        "docker-legacy",
        env("name: e\ndocker:\n  image: x\n"),
        "environments/e.yml:2:1",
        "2021 preview schema",
    ),
    Case(
        "top-level-channels",
        env("name: e\n" + IMG + "channels: [conda-forge]\n"),
        "environments/e.yml:3:1",
        "top-level 'channels' is a conda key",
    ),
    Case(
        "top-level-dependencies",
        env("name: e\n" + IMG + "dependencies: [python]\n"),
        "environments/e.yml:3:1",
        "top-level 'dependencies'",
    ),
    Case(
        "top-level-path",
        env("name: e\n" + IMG + "path: .\n"),
        "environments/e.yml:3:1",
        "did you mean 'build.path'?",
    ),
    # -- scalar fields
    Case(
        "tags-not-mapping",
        env("name: e\n" + IMG + "tags: [a, b]\n"),
        "environments/e.yml:3:7",
        "tags must be a mapping, not a list",
    ),
    Case(
        "tag-value-list",
        env("name: e\n" + IMG + "tags:\n  team: [a]\n"),
        "environments/e.yml:4:9",
        "tags.team must be",
    ),
    Case(
        "tag-value-empty", env("name: e\n" + IMG + "tags:\n  team:\n"), "environments/e.yml:4:8", "not empty"
    ),
    Case(
        "os-type-bad",
        env("name: e\n" + IMG + "os_type: macos\n"),
        "environments/e.yml:3:10",
        "must be linux or windows",
    ),
    Case(
        "inference-missing-route",
        env("name: e\n" + IMG + "inference_config:\n  scoring_route: {path: /score, port: 80}\n"),
        "environments/e.yml:4:3",
        "missing required key 'liveness_route'",
    ),
    Case(
        "inference-port-not-int",
        env(
            "name: e\n" + IMG + "inference_config:\n"
            "  liveness_route: {path: /, port: 80}\n  readiness_route: {path: /, port: 80}\n"
            "  scoring_route: {path: /score, port: eighty}\n"
        ),
        "environments/e.yml:6:39",
        "scoring_route.port must be an integer, not a string",
    ),
    Case(
        "inference-port-range",
        env(
            "name: e\n" + IMG + "inference_config:\n"
            "  liveness_route: {path: /, port: 70000}\n  readiness_route: {path: /, port: 80}\n"
            "  scoring_route: {path: /, port: 80}\n"
        ),
        "environments/e.yml:4:35",
        "between 1 and 65535",
    ),
    Case(
        "version-list",
        env("name: e\nversion: [1]\n" + IMG),
        "environments/e.yml:2:10",
        "version must be a string or a number, not a list",
    ),
    Case(
        "version-mapping",
        env("name: e\nversion: {major: 1}\n" + IMG),
        "environments/e.yml:2:10",
        "not a mapping",
    ),
    Case(
        "version-empty",
        env("name: e\nversion: ''\n" + IMG),
        "environments/e.yml:2:10",
        "version must not be empty",
    ),
    Case(
        "description-not-string",
        env("name: e\ndescription: [a]\n" + IMG),
        "environments/e.yml:2:14",
        "description must be a string, not a list",
    ),
    Case(
        "datastore-not-string",
        env("name: e\ndatastore: 3\n" + IMG),
        "environments/e.yml:2:12",
        "datastore must be a string",
    ),
    Case(
        "tag-name-not-string",
        env("name: e\n" + IMG + "tags:\n  1: x\n"),
        "environments/e.yml:4:3",
        "tag name 1 must be a string",
    ),
    Case("name-empty", env("name:\n" + IMG), "environments/e.yml:1:6", "name must be a string, not empty"),
    Case(
        "build-empty",
        env("name: e\nbuild:\n"),
        "environments/e.yml:2:7",
        "build must be a mapping, not empty",
    ),
    Case(
        "route-empty",
        env(
            "name: e\n"
            + IMG
            + "inference_config:\n  liveness_route:\n  readiness_route: {path: /, port: 1}\n"
            "  scoring_route: {path: /, port: 1}\n"
        ),
        "environments/e.yml:4:18",
        "inference_config.liveness_route must be a mapping, not empty",
    ),
    Case(
        "top-level-scalar",
        env("just text\n"),
        "environments/e.yml:1:1",
        "must be a mapping (name, image or build, ...), not a string",
    ),
    # -- across files
    Case(
        "duplicate-name-version",
        {**env("name: e\nversion: '1'\n" + IMG, "a"), **env("name: e\nversion: 1\n" + IMG, "b")},
        "environments/b.yml:1:7",
        "environment 'e' version '1' is also defined in environments/a.yml",
    ),
    # -- names and versions the service refuses (issue 25): errors, never created
    Case(
        "placeholder-version",
        env("name: e\nversion: 1-<VERSION>\n" + IMG),
        "environments/e.yml:2:10",
        "version '1-<VERSION>' holds an unsubstituted template placeholder",
    ),
    Case(
        "colon-version",
        env("name: e\nversion: '18.04:2022'\n" + IMG),
        "environments/e.yml:2:10",
        "not a valid version",
    ),
    Case(
        "dotdot-version",
        env("name: e\nversion: ../x\n" + IMG),
        "environments/e.yml:2:10",
        "not a valid version",
    ),
    Case(
        "hash-version", env("name: e\nversion: a#b\n" + IMG), "environments/e.yml:2:10", "not a valid version"
    ),
    Case(
        "space-version",
        env("name: e\nversion: v 1\n" + IMG),
        "environments/e.yml:2:10",
        "not a valid version",
    ),
    Case("latest-version", env("name: e\nversion: latest\n" + IMG), "environments/e.yml:2:10", "is reserved"),
    Case(
        "newline-version",
        env('name: e\nversion: "2\\n"\n' + IMG),
        "environments/e.yml:2:10",
        "not a valid version",
    ),
    Case(
        "newline-name", env('name: "e\\n"\n' + IMG), "environments/e.yml:1:7", "not a valid environment name"
    ),
    Case(
        "duplicate-name-no-version",
        {**env("name: e\n" + IMG, "a"), **env("# x\nname: e\n" + IMG, "b")},
        "environments/a.yml:1:7",
        "without a version is also defined in environments/b.yml",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_an_error_at_its_location(tmp_path: Path, case: Case) -> None:
    write_tree(tmp_path, case.files)
    result = load_all(Config(root=tmp_path))
    errors = [f"{p.path}:{p.line}:{p.col}: {p.message}" for p in result.errors]
    assert any(e.startswith(case.where + ": ") and case.message in e for e in errors), errors


def test_a_wrong_type_gives_one_error_not_a_cascade(tmp_path: Path) -> None:
    write_tree(tmp_path, env("name: 3\nbuild: [a]\n"))
    assert [str(p) for p in load_all(Config(root=tmp_path)).problems] == [
        "environments/e.yml:1:7: name must be a string, not an integer",
        "environments/e.yml:2:8: build must be a mapping, not a list",
    ]


def test_at_least_thirty_distinct_bad_inputs() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 30


def test_every_problem_of_every_file_is_reported_in_one_run(tmp_path: Path) -> None:
    write_tree(
        tmp_path, {**env("name: a b\n" + IMG + "os_type: mac\n", "one"), **env("name: x\nimgae: y\n", "two")}
    )
    result = load_all(Config(root=tmp_path))
    assert [(p.path, p.line) for p in result.errors] == [
        ("environments/one.yml", 1),
        ("environments/one.yml", 3),
        ("environments/two.yml", 1),
        ("environments/two.yml", 2),
    ]
    assert result.specs == ()


def test_invalid_files_never_raise(tmp_path: Path) -> None:
    """Every case above at once: one run, no exception, one error at least per case."""
    for i, case in enumerate(CASES):
        write_tree(tmp_path / str(i), case.files)
        assert load_all(Config(root=tmp_path / str(i))).errors


WARNINGS = [
    (
        "float-version",
        "name: e\nversion: 1.10\n" + IMG,
        "environments/e.yml:2:10",
        "version 1.10 is a YAML number, sent as '1.1'",
    ),
    (
        "octal-version",
        "name: e\nversion: 010\n" + IMG,
        "environments/e.yml:2:10",
        "version 010 is a YAML number, sent as '8'",
    ),
    (
        "number-tag",
        "name: e\n" + IMG + "tags:\n  hpcx: 2.10\n",
        "environments/e.yml:4:9",
        "kept as its source text '2.10'",
    ),
    ("bool-tag", "name: e\n" + IMG + "tags:\n  gpu: true\n", "environments/e.yml:4:8", "a boolean"),
    (
        "unknown-conda-key",
        "name: e\n" + IMG + "conda_file:\n  dependecies: [python]\n",
        "environments/e.yml:4:3",
        "unknown conda key 'dependecies' (did you mean 'dependencies'?)",
    ),
]


@pytest.mark.parametrize(
    ("body", "where", "message"), [w[1:] for w in WARNINGS], ids=[w[0] for w in WARNINGS]
)
def test_questionable_input_is_a_warning_only(tmp_path: Path, body: str, where: str, message: str) -> None:
    write_tree(tmp_path, env(body))
    result = load_all(Config(root=tmp_path))
    assert not result.errors and len(result.specs) == 1
    assert any(str(p).startswith(f"{where}: warning: ") and message in p.message for p in result.problems), [
        str(p) for p in result.problems
    ]
    assert all(p.severity is Severity.WARNING for p in result.problems)
