"""The real-world corpus (/work/shared/corpus, INDEX.md rows 1-29): what envsync makes of each file.

Each row's upstream repository tree is rebuilt in tmp_path (stored names un-flattened: `@sha`
suffix dropped, `__` → `/`; a historic file brings the same-commit versions of its siblings),
then the environment YAML is loaded. Valid rows assert what az ml would send; rejected rows
state why the service or az ml would reject the file too.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from envsync.apply.bodies import version_body
from envsync.spec.load import EnvironmentSpec, Severity, load_spec

CORPUS = Path("/work/shared/corpus")
PYDATA_HEAD = "channels:\n- conda-forge\ndependencies:\n- python=3.8\n- pip=21.2.4\n- pip:\n  - numpy==1.22\n"
REMOTE = (
    "https://ankitws8854091092.blob.core.windows.net/azureml-blobstore-579340a1-d0fd-43a7-a49c-2bb8c39c2c95"
    "/LocalUpload/c46f59fa5f499ec3cb27a7445c9a7733/environment_files/"
)


@dataclass(frozen=True)
class Row:
    n: int
    stored: str  # the file's name in the corpus: <owner>__<repo>/<flattened path>[@sha]
    name: str | None = None  # valid: the environment name; None means rejected
    version: str | None = None
    sent: dict[str, Any] = field(default_factory=dict)  # fields of the PUT body envsync would send
    warnings: tuple[str, ...] = ()  # substrings, one per expected warning
    errors: tuple[tuple[str, str], ...] = ()  # rejected: ("line:col", message substring)
    reason: str = ""  # rejected: why Azure ML / az ml rejects it too; valid: what the corpus can't show


EX = "Azure__azureml-examples/"
MPT = "Azure__mlops-project-template/"
SDK = "Azure__azure-sdk-for-python/sdk__ml__azure-ai-ml__tests__test_configs__environment__"
ASSETS = "Azure__azureml-assets/assets__"
OWN_CONTEXT = "inside its own build context"
NUMBER_TAG = "kept as its source text"

ROWS = [
    Row(
        1,
        EX + "cli__assets__environment__docker-image.yml",
        "docker-image-example",
        sent={"image": "pytorch/pytorch:latest", "conda_file": None, "build": None},
    ),
    Row(
        2,
        EX + "cli__assets__environment__docker-image-plus-conda.yaml",
        "docker-image-plus-conda-example",
        sent={"conda_head": PYDATA_HEAD, "conda_tail": "name: pydata-example\n"},
    ),
    Row(
        3,
        EX + "cli__assets__environment__docker-context.yml",
        "docker-context-example",
        sent={"dockerfile_path": "Dockerfile", "context_dir": "python-and-pip"},
    ),
    Row(
        4,
        EX + "cli__assets__environment__docker-context.yml@0bef26e",
        "docker-context-example",
        sent={"dockerfile_path": "Dockerfile", "context_dir": "python-and-pip"},
        warnings=("build.local_path is the pre-GA name of build.path",),
        reason="az ml 1.35.2 rejects build.local_path (Unknown field); envsync accepts it as build.path, "
        "with a deprecation warning (a documented envsync extension)",
    ),
    Row(
        5,
        EX + "cli__assets__environment__python-ml-basic-cpu.yml@8358801",
        errors=(("4:1", "'docker:' is the 2021 preview schema"),),
        warnings=("the 'file:' prefix is 2021 preview syntax",),
        reason="docker: is the 2021 preview schema; az ml rejects it (docker: Unknown field)",
    ),
    Row(
        6,
        EX + "cli__jobs__pipelines-with-components__nyc_taxi_data_regression__env_train.yml",
        errors=(("3:10", "version '1-<VERSION>' holds an unsubstituted template placeholder"),),
        reason="a template: the example's CI substitutes <VERSION> before az ml reads it; unfilled, "
        "the version would reach the service as is",
    ),
    Row(
        7,
        EX + "cli__jobs__single-step__gpu_perf__environments__nvidia__env.yml",
        "nccltests_nvidia_pytorch",
        "22.02-py3",
        sent={"context_dir": "nvidia"},
        warnings=(OWN_CONTEXT,),
        reason="build.path '.': env.yml is part of its own context, so it is in the digest",
    ),
    Row(
        8,
        EX + "best-practices__largescale-deep-learning__Training__Bert-Pretrain__src__environment__env.yml",
        "ACPT_Nebula",
        "1",
        sent={
            "tags_subset": {
                "hpcx": "2.10",
                "hpc_x": "2.10",
                "os_version": "20.04",
                "rdma_core": "36.0",
                "cuda": "11.7",
                "rapids": "22.04",
                "ucx": "1.12.0",
                "torch": "1.13.0a0+340c412",
            }
        },
        warnings=(NUMBER_TAG,) * 6,
        reason="tags: az ml sends hpcx as the JSON number 2.1; envsync sends the source text '2.10'",
    ),
    Row(
        9,
        EX
        + "cli__endpoints__online__deploy-with-packages__custom-model__environment__sklearn-regression-env.yml",
        "sklearn-regression-env",
        sent={"conda_head": "channels:\n"},
        reason="conda.yaml has CRLF line endings: parsed, so they never reach the fingerprint",
    ),
    Row(
        10,
        EX + "sdk__python__jobs__pipelines__1b_pipeline_with_python_function_components__src__env.yaml",
        "mldesigner_environment",
        sent={"conda_head": "channels:\n- defaults\ndependencies:\n- python=3.8.12\n", "conda_source": None},
    ),
    Row(
        11,
        MPT + "classical__aml-cli-v2__mlops__azureml__train__train-env.yml",
        "taxi-train-env",
        sent={"conda_source": "classical/aml-cli-v2/data-science/environment/train-conda.yml"},
    ),
    Row(
        12,
        MPT + "classical__aml-cli-v2__mlops__azureml__deploy__batch__batch-env.yml",
        "taxi-batch-env",
        "1",
        sent={"conda_no_name": True},
    ),
    Row(
        13,
        MPT + "cv__aml-cli-v2__mlops__azureml__train__train-env.yaml",
        "nvidia_pytorch",
        sent={
            "tags_subset": {"hpcx": "2.10", "os_version": "20.04", "nsight_systems": "2022.2.1.31-5fe97ab"},
            "context_dir": "environment",
        },
        warnings=(NUMBER_TAG,) * 3,
        reason="upstream context also holds ndv4-topo.xml (not copied): the digest is not az ml's, so not asserted",
    ),
    Row(
        14,
        MPT + "nlp__aml-cli-v2__mlops__azureml__train__train-env.yml",
        "nlp_summarization_train",
        "mlopsv2-july2022",
        sent={"context_dir": "training"},
    ),
    Row(
        15,
        SDK + "environment_conda_inline.yml",
        "myTestEnv",
        "1",
        sent={
            "conda_head": "channels:\n- conda-forge\ndependencies:\n- python=3.8\n- pip\n- pip:\n  - nbgitpuller\n"
        },
    ),
    Row(
        16,
        SDK + "environment_docker_inference.yml",
        "TestEnv",
        "1",
        sent={
            "os_type": "linux",
            "inference_config": {
                "livenessRoute": {"path": "/health/live", "port": 5002},
                "readinessRoute": {"path": "/health/ready", "port": 5003},
                "scoringRoute": {"path": "/predict", "port": 5001},
            },
        },
    ),
    Row(
        17,
        SDK + "environment_docker_context.yml",
        "TestEnv",
        "1",
        sent={
            "dockerfile_path": "DockerfileNonDefault",
            "tags": {"test": "test"},
            "context_dir": "environment_files",
        },
    ),
    Row(
        18,
        SDK + "environment_docker_context_remote_path.yml",
        "TestEnv",
        "1",
        sent={
            "context_uri": REMOTE,
            "dockerfile_path": "Dockerfile",
            "description": "Docker context environment",
        },
    ),
    Row(19, SDK + "environment_no_version.yml", "existing-env", None, sent={"conda_head": "channels:\n"}),
    Row(
        20,
        SDK + "environment_colon_version.yml",
        errors=(("3:10", "version '18.04:2022' is not a valid version"),),
        reason="az ml's client accepts the colon, but azureml:NAME:VERSION cannot carry it: envsync "
        "refuses it rather than create a version no reference can name",
    ),
    Row(
        21,
        SDK + "environment_conda_bad.yml",
        errors=(("6:1", "unknown key 'path' (did you mean 'build.path'?)"),),
        reason="az ml: path: Unknown field (the SDK's own negative test)",
    ),
    Row(
        22,
        ASSETS + "training__general__environments__lightgbm-3.3__spec.yaml",
        errors=(
            ("6:7", "'{{asset.name}}' is not a valid environment name"),
            ("7:10", "version '{{asset.version}}' holds an unsubstituted template placeholder"),
            ("10:9", "build context folder '{{image.context.path}}' not found (looks like an unsubstituted"),
        ),
        reason="templated: azureml-assets tooling fills the placeholders; az ml finds no such folder",
    ),
    Row(
        23,
        ASSETS + "inference__environments__minimal-ubuntu22.04-py311-cpu-inference__spec.yaml",
        errors=(
            ("6:7", "'{{asset.name}}' is not a valid environment name"),
            ("7:10", "version '{{asset.version}}' holds an unsubstituted template placeholder"),
            ("10:9", "build context folder '{{image.context.path}}' not found"),
        ),
        reason="templated, as row 22",
    ),
    Row(
        24,
        "Azure-Samples__multi_env_mlops/mlops__azureml__train__train-env.yml",
        "readmission-train-env",
        "1",
        sent={"conda_no_name": True, "conda_source": "data_science/environment/train-conda.yml"},
    ),
    Row(
        25,
        "Politheon-HQ__mlops-template/mlops__azureml__train__train-env.yml",
        errors=(
            ("2:7", "'${TRAINING_ENV_NAME}' is not a valid environment name"),
            ("6:8", "image '${BASE_IMAGE}' is not a Docker image reference"),
            (
                "9:13",
                "conda file '${CONDA_ENV_PATH}' not found (looks like an unsubstituted template placeholder)",
            ),
        ),
        reason="envsubst placeholders: az ml finds no conda file '${CONDA_ENV_PATH}'",
    ),
    Row(
        26,
        "anildwarepo__MLInferencingAzure/environment__env.yml",
        "ml-inferening-base-environment",
        sent={"context_dir": "docker-contexts"},
    ),
    Row(
        27,
        "AI-UniSR__azureml-project-blueprint/environments__environment.yml",
        "blueprint-example-sklearn-env",
        "1",
        sent={"description_end": "Rename before using in production.\n"},
    ),
    Row(
        28,
        "AI-UniSR__azureml-project-blueprint/environments__blueprint-env__env.yml",
        "blueprint-env",
        "1",
        sent={"context_dir": "blueprint-env"},
        warnings=(OWN_CONTEXT,),
    ),
    Row(
        29,
        "wenyang__azureml-v2-preview/examples__environments__fastai-vision-env.yml",
        errors=(("4:1", "'docker:' is the 2021 preview schema"),),
        reason="2021 private-preview schema; az ml: docker: Unknown field (its dockerfile is not in the corpus)",
    ),
]


def rebuild(repo: str, suffix: str | None, dest: Path) -> None:
    """The stored files of `repo` at their upstream paths; `suffix` picks one historic commit."""
    for stored in sorted((CORPUS / repo).iterdir()):
        base, _, sha = stored.name.partition("@")
        target = dest / base.replace("__", "/")
        if sha not in ("", suffix) or (not sha and target.exists()):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stored, target)


def load_row(row: Row, tmp_path: Path) -> tuple[EnvironmentSpec | None, list[str], list[str], Path]:
    repo, _, name = row.stored.partition("/")
    base, _, sha = name.partition("@")
    rebuild(repo, sha or None, tmp_path)
    spec, problems = load_spec(tmp_path / base.replace("__", "/"), root=tmp_path)
    errors = [f"{p.line}:{p.col}: {p.message}" for p in problems if p.severity is Severity.ERROR]
    warnings = [p.message for p in problems if p.severity is Severity.WARNING]
    return spec, errors, warnings, tmp_path


def test_table_covers_every_environment_row_of_the_index() -> None:
    listed = re.findall(r"^\| (\d+) \| `([^`]+)` \|", (CORPUS / "INDEX.md").read_text(), re.MULTILINE)
    assert [(int(n), stored) for n, stored in listed] == [(r.n, r.stored) for r in ROWS]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.n:02d}" for r in ROWS])
def test_corpus_row(row: Row, tmp_path: Path) -> None:
    spec, errors, warnings, root = load_row(row, tmp_path)
    assert len(warnings) == len(row.warnings), warnings
    for expected, found in zip(row.warnings, warnings, strict=True):
        assert expected in found
    if row.name is None:
        assert spec is None and row.reason
        for where, message in row.errors:
            assert any(e.startswith(f"{where}: ") and message in e for e in errors), errors
        return
    assert errors == [] and spec is not None
    assert (spec.name, spec.version) == (row.name, row.version)
    check_sent(spec, row.sent, root)


def check_sent(spec: EnvironmentSpec, sent: dict[str, Any], root: Path) -> None:
    body = version_body(spec)
    conda = body.conda_file or ""
    checks = {
        "image": lambda v: body.image == v,
        "conda_file": lambda v: body.conda_file == v,
        "build": lambda v: body.build == v,
        "conda_head": lambda v: conda.startswith(v),
        "conda_tail": lambda v: conda.endswith(v),
        "conda_no_name": lambda v: ("name" not in spec.conda) is v,
        "conda_source": lambda v: spec.conda_source == (v and root / v),
        "tags": lambda v: dict(body.tags) == v,
        "tags_subset": lambda v: {k: body.tags.get(k) for k in v} == v,
        "os_type": lambda v: body.os_type == v,
        "inference_config": lambda v: body.inference_config == v,
        "description": lambda v: body.description == v,
        "description_end": lambda v: (body.description or "").endswith(v),
        "dockerfile_path": lambda v: body.build is not None and body.build.dockerfile_path == v,
        "context_uri": lambda v: body.build is not None and body.build.context_uri == v and spec.build.remote,
        "context_dir": lambda v: (
            spec.build is not None and Path(spec.build.path).name == v and spec.build.digest
        ),
    }
    for key, value in sent.items():
        assert checks[key](value), (key, value, body)
    assert body.os_type == "linux" and spec.fingerprint
