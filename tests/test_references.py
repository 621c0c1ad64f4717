"""References from jobs and deployments to environments: parsing, finding, checking, annotating."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from envsync.plan.model import Action, Change, Plan
from envsync.plan.references import annotate, workspace_known
from envsync.spec.known import Known, check, repo_known
from envsync.spec.references import (
    BadReference,
    Found,
    Kind,
    Reference,
    Target,
    load_references,
    parse_reference,
    reference_files,
)
from envsync.workspace import RemoteVersion, VersionBody

CORPUS = Path("/work/shared/corpus/Azure__azureml-examples")
CURATED_DEPLOYMENT = CORPUS / "cli__endpoints__online__managed__sample__blue-deployment-with-curated-env.yml"
TFSERVING = (
    CORPUS / "cli__endpoints__online__custom-container__tfserving__half-plus-two__tfserving-deployment.yml"
)
ENV_GLOBS = ("environments/**/*.yml", "environments/**/*.yaml")
DIGEST = "0" * 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("azureml:py:3", Target(Kind.VERSION, "py", "3")),
        ("azureml:py@latest", Target(Kind.LATEST, "py")),
        ("  azureml:py:3  ", Target(Kind.VERSION, "py", "3")),
        ("azureml:ubuntu:18.04:2022", Target(Kind.VERSION, "ubuntu", "18.04:2022")),
        ("azureml:AzureML-sklearn-1.5:7", Target(Kind.VERSION, "AzureML-sklearn-1.5", "7")),
        ("azureml:my_env:v2-beta", Target(Kind.VERSION, "my_env", "v2-beta")),
        (
            "azureml://registries/azureml/environments/sklearn-1.5/labels/latest",
            Target(Kind.REGISTRY, "sklearn-1.5", None, "azureml"),
        ),
        (
            "azureml://registries/shared/environments/py/versions/4",
            Target(Kind.REGISTRY, "py", "4", "shared"),
        ),
        (
            "azureml:/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices"
            "/workspaces/w/environments/py/versions/1",
            Target(Kind.EXTERNAL),
        ),
        ("azureml://locations/westeurope/workspaces/abc/environments/py/versions/1", Target(Kind.EXTERNAL)),
    ],
)
def test_parse_reference(text: str, expected: Target) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("py:3", "is not an environment reference"),
        ("azureml:py", "names no version: write azureml:py:VERSION or azureml:py@latest"),
        ("azureml:py@stable", "only the label @latest"),
        ("azureml:py env:1", "not a valid environment name"),
        ("azureml:{{ENV_NAME}}:1", "not a valid environment name"),
        ("azureml://registries/azureml/environments/py", "registry references look like"),
        ("azureml://registries/azureml/environments/py/labels/prod", "only the label latest"),
    ],
)
def test_parse_reference_rejects(text: str, message: str) -> None:
    with pytest.raises(BadReference, match=message.replace(".", r"\.").replace("{", r"\{")):
        parse_reference(text)


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_default_scan_finds_jobs_outside_environments_and_vendored_folders(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "jobs/train.yml": "command: python train.py\nenvironment: azureml:py@latest\n",
            "jobs/nested.yaml": "jobs:\n  step:\n    environment: azureml:py:1\n",  # a pipeline's step
            "environments/py.yml": "name: py\nimage: x\nenvironment: odd\n",
            ".venv/lib/job.yml": "environment: azureml:py:1\n",
            "node_modules/x/job.yml": "environment: azureml:py:1\n",
            "ci.yml": "steps: []\n",
        },
    )
    assert sorted(reference_files(root, (), ENV_GLOBS)) == [
        root / "jobs/nested.yaml",
        root / "jobs/train.yml",
    ]


def test_configured_globs_replace_the_scan(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"jobs/a.yml": "x: 1\n", "deploy/b.yml": "environment: azureml:py:1\n"})
    assert reference_files(root, ("jobs/*.yml",), ENV_GLOBS) == [root / "jobs/a.yml"]


def test_references_carry_file_and_line(tmp_path: Path) -> None:
    root = _repo(
        tmp_path, {"jobs/train.yml": "# a job\ncommand: python train.py\nenvironment: azureml:py@latest\n"}
    )
    found = load_references(root, [root / "jobs/train.yml"])
    assert found == Found(
        references=(Reference("jobs/train.yml", 3, 14, "azureml:py@latest", Target(Kind.LATEST, "py")),)
    )


def test_corpus_deployments(tmp_path: Path) -> None:
    """The curated registry reference parses; the templated tfserving file is a located error."""
    shutil.copy(CURATED_DEPLOYMENT, tmp_path / "blue.yml")
    shutil.copy(TFSERVING, tmp_path / "tfserving.yml")
    files = reference_files(tmp_path, (), ENV_GLOBS)
    assert [p.name for p in files] == ["blue.yml", "tfserving.yml"]
    found = load_references(tmp_path, files)
    (ref,) = found.references
    assert (ref.where, ref.target) == ("blue.yml:9", Target(Kind.REGISTRY, "sklearn-1.5", None, "azureml"))
    (problem,) = found.problems
    assert str(problem) == (
        "tfserving.yml:6:13: warning: invalid YAML: found unhashable key "
        "(looks like an unsubstituted template placeholder); its environment reference is not checked"
    )


def test_inline_environment_is_kept_with_its_mapping(tmp_path: Path) -> None:
    text = TFSERVING.read_text().replace("{{MODEL_VERSION}}", "1")
    root = _repo(tmp_path, {"deploy.yml": text})
    (ref,) = load_references(root, [root / "deploy.yml"]).references
    assert ref.target.kind is Kind.INLINE
    assert ref.line == 14  # the mapping starts after the commented-out name and version
    assert ref.inline is not None and ref.inline["image"] == "docker.io/tensorflow/serving:latest"


def test_bad_reference_is_a_problem_at_its_line(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"job.yml": "name: j\nenvironment: py:1\n", "num.yml": "environment: 3\n"})
    found = load_references(root, [root / "job.yml", root / "num.yml"])
    assert [str(p) for p in found.problems] == [
        "job.yml:2:14: 'py:1' is not an environment reference: write azureml:NAME:VERSION, "
        "azureml:NAME@latest or azureml://registries/REG/environments/NAME/versions/V",
        "num.yml:1:14: environment: expected a reference string or a mapping",
    ]


def _ref(text: str, line: int = 1) -> Reference:
    return Reference("jobs/train.yml", line, 14, text, parse_reference(text))


def _version(name: str, version: str, *, archived: bool = False) -> RemoteVersion:
    return RemoteVersion(name, version, VersionBody(image="x", archived=archived))


def _change(name: str, action: Action, version: str) -> Change:
    return Change(name=name, action=action, version=version, observed_digest=DIGEST)


KNOWN = workspace_known(
    Plan("local", (_change("py", Action.NEW_VERSION, "3"), _change("fresh", Action.CREATE, "1"))),
    {
        "py": [_version("py", "2"), _version("py", "1", archived=True)],
        "gone": [_version("gone", "1", archived=True)],
        "AzureML-sklearn-1.5": [_version("AzureML-sklearn-1.5", "7")],
        "missing": [],
    },
)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("azureml:py:2", None),
        ("azureml:py:1", None),  # archived versions still exist
        ("azureml:py:3", None),  # planned
        ("azureml:fresh@latest", None),
        ("azureml:AzureML-sklearn-1.5:7", None),
        ("azureml://registries/azureml/environments/nope/labels/latest", None),
        ("azureml:py:9", "'py' has no version 9 (known versions: 1, 2, 3)"),
        ("azureml:gone@latest", "'gone' has no active version for @latest"),
        ("azureml:missing:1", "no environment 'missing' in the repo, the workspace or the curated set"),
        (
            "azureml:AzureML-other:1",
            "no environment 'AzureML-other' in the repo, the workspace or the curated set",
        ),
    ],
)
def test_check_against_the_workspace(text: str, error: str | None) -> None:
    problems = check([_ref(text, line=12)], KNOWN)
    assert [p.message for p in problems] == ([f"{text}: {error}"] if error else [])
    assert all((p.path, p.line) == ("jobs/train.yml", 12) for p in problems)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("azureml:py:7", True),
        ("azureml:py@latest", True),
        ("azureml:AzureML-x:1", True),
        ("azureml:other:1", False),
    ],
)
def test_repo_only_check_knows_names_not_versions(text: str, ok: bool) -> None:
    problems = check([_ref(text)], repo_known({"py"}))
    assert [p.message for p in problems] == (
        [] if ok else [f"{text}: no environment 'other' in the repo, and not a curated (AzureML-*) name"]
    )


def test_annotate_lists_latest_refs_and_pins_under_new_versions() -> None:
    plan = Plan(
        "local",
        (
            _change("py", Action.NEW_VERSION, "3"),
            _change("py", Action.NOOP, "2"),
            _change("other", Action.UPDATE, "1"),
        ),
    )
    refs = [
        _ref("azureml:py@latest", 4),
        _ref("azureml:py:3", 5),
        _ref("azureml:py:2", 6),
        _ref("azureml:other@latest"),
    ]
    annotated = annotate(plan, refs)
    assert [c.references for c in annotated.changes] == [
        ("jobs/train.yml:4 (azureml:py@latest)", "jobs/train.yml:5 (azureml:py:3)"),
        (),
        (),
    ]


REGISTRY_KNOWN = workspace_known(
    Plan("shared", (_change("py", Action.NEW_VERSION, "3"), _change("fresh", Action.CREATE, "1"))),
    {
        "py": [_version("py", "2"), _version("py", "1", archived=True)],
        "gone": [_version("gone", "1", archived=True)],
    },
    registry="Shared",
)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("azureml://registries/shared/environments/py/versions/2", None),
        ("azureml://registries/SHARED/environments/py/versions/1", None),  # names are case-insensitive
        ("azureml://registries/shared/environments/py/versions/3", None),  # planned
        ("azureml://registries/shared/environments/fresh/labels/latest", None),
        ("azureml://registries/azureml/environments/nope/labels/latest", None),  # another registry
        ("azureml:nope:1", None),  # a workspace asset: the workspace's plan checks it
        ("azureml:py@latest", None),
        (
            "azureml://registries/shared/environments/py/versions/9",
            "'py' has no version 9 in registry Shared (known versions: 1, 2, 3)",
        ),
        (
            "azureml://registries/shared/environments/gone/labels/latest",
            "'gone' has no active version in registry Shared for labels/latest",
        ),
        (
            "azureml://registries/shared/environments/nope/versions/1",
            "no environment 'nope' in registry Shared or in what the plan pushes to it",
        ),
    ],
)
def test_check_against_a_registry(text: str, error: str | None) -> None:
    problems = check([_ref(text, line=3)], REGISTRY_KNOWN)
    assert [p.message for p in problems] == ([f"{text}: {error}"] if error else [])


def test_annotate_a_registry_plan_lists_its_registry_references() -> None:
    plan = Plan("shared", (_change("py", Action.NEW_VERSION, "3"), _change("py", Action.NOOP, "2")))
    refs = [
        _ref("azureml://registries/shared/environments/py/labels/latest", 4),
        _ref("azureml://registries/Shared/environments/py/versions/3", 5),
        _ref("azureml://registries/shared/environments/py/versions/2", 6),
        _ref("azureml://registries/other/environments/py/labels/latest", 7),
        _ref("azureml:py@latest", 8),
    ]
    annotated = annotate(plan, refs, registry="shared")
    assert [c.references for c in annotated.changes] == [
        (
            "jobs/train.yml:4 (azureml://registries/shared/environments/py/labels/latest)",
            "jobs/train.yml:5 (azureml://registries/Shared/environments/py/versions/3)",
        ),
        (),
    ]
    # A workspace's plan lists only the workspace references.
    assert annotate(plan, refs).changes[0].references == ("jobs/train.yml:8 (azureml:py@latest)",)


def test_known_is_empty_by_default() -> None:
    assert check([_ref("azureml:py:1")], Known())[0].message.endswith("the curated set")


def test_plan_renders_and_saves_the_references() -> None:
    """Text shows them under the change; JSON carries them, valid against the plan schema."""
    import json

    from envsync.plan import render
    from envsync.spec.schemas import validator

    plan = annotate(Plan("local", (_change("py", Action.NEW_VERSION, "3"),)), [_ref("azureml:py@latest", 12)])
    assert "    # used by jobs/train.yml:12 (azureml:py@latest)\n" in render.text(plan)
    doc = json.loads(render.to_json(plan))
    assert doc["changes"][0]["references"] == ["jobs/train.yml:12 (azureml:py@latest)"]
    assert list(validator("plan").iter_errors(doc)) == []


def test_inline_environment_is_validated_like_a_file(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "deploy/ok.yml": TFSERVING.read_text().replace("{{MODEL_VERSION}}", "1"),
            "deploy/bad.yml": "environment:\n  image: x\n  build:\n    path: ctx\n  colour: blue\n",
            "deploy/conda.yml": "environment:\n  image: x\n  conda_file: missing.yml\n",
        },
    )
    found = load_references(root, reference_files(root, (), ENV_GLOBS))
    assert len(found.references) == 3
    assert [str(p) for p in found.problems] == [
        "deploy/bad.yml:3:3: give either 'image' or 'build', not both",
        "deploy/bad.yml:4:11: build context folder 'ctx' not found",
        "deploy/bad.yml:5:3: unknown key 'colour'",
        "deploy/conda.yml:3:15: conda file 'missing.yml' not found",
    ]


def test_validate_checks_references_against_the_repo(tmp_path: Path) -> None:
    """The real CLI: repo names and curated names pass, unknown ones fail, broken files warn."""
    from tests.helpers import run, write_env

    write_env(tmp_path, "py", version="1")
    root = _repo(
        tmp_path,
        {
            "jobs/ok.yml": "command: x\nenvironment: azureml:py@latest\n",
            "jobs/curated.yml": "command: x\nenvironment: azureml:AzureML-sklearn-1.5:3\n",
            "jobs/bad.yml": "command: x\nenvironment: azureml:nope:1\n",
        },
    )
    shutil.copy(TFSERVING, root / "jobs" / "tf.yml")
    result = run(root, "validate")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "jobs/bad.yml:2:14: error: azureml:nope:1: no environment 'nope' in the repo, and not a curated (AzureML-*) "
        "name",
        "jobs/tf.yml:6:13: warning: invalid YAML: found unhashable key (looks like an unsubstituted template "
        "placeholder); its environment reference is not checked",
        "1 error, 1 warning in 3 files",
    ]
    (root / "jobs" / "bad.yml").unlink()
    (root / "jobs" / "tf.yml").unlink()
    assert run(root, "validate").output == "1 environment valid\n"


def test_saved_plan_keeps_the_references(tmp_path: Path) -> None:
    from envsync.plan import saved

    plan = annotate(Plan("local", (_change("py", Action.NEW_VERSION, "3"),)), [_ref("azureml:py:3", 7)])
    saved.write(plan, tmp_path / "plan.json")
    assert saved.read(tmp_path / "plan.json").changes[0].references == ("jobs/train.yml:7 (azureml:py:3)",)
