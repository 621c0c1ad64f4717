"""The pure formatting behind `envsync list`, `envsync show` and `envsync import`."""

from __future__ import annotations

import json

import pytest
import yaml

from envsync.errors import EnvsyncError
from envsync.inventory.importer import SCHEMA, environment_yaml, files_for
from envsync.inventory.inspect import (
    Wanted,
    environment_rows,
    latest,
    parse_wanted,
    render_doc,
    show_doc,
    table,
    version_rows,
    visible,
)
from envsync.workspace import BuildContext, Container, RemoteVersion, VersionBody

DIGEST = "279bb1013415ea89ed9a5730fe2b6837228efc7fabfb0f1d60b90d865f2464a3"
CONTEXT_URI = f"https://acct.blob.core.windows.net/azureml/LocalUpload/{DIGEST}/torch/"
ROUTES = {
    "livenessRoute": {"path": "/ok", "port": 8501},
    "readinessRoute": {"path": "/ready", "port": 8501},
    "scoringRoute": {"path": "/score", "port": 8502},
}


def version(
    name: str = "py", v: str = "1", created: str = "2026-01-01T00:00:00Z", **body: object
) -> RemoteVersion:
    body.setdefault("image", "mcr.microsoft.com/azureml/base:1")
    return RemoteVersion(name, v, VersionBody(**body), created=created)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("py", Wanted("py")),
        ("py@latest", Wanted("py")),
        ("azureml:py@latest", Wanted("py")),
        ("py:3", Wanted("py", "3")),
        ("azureml:py:3", Wanted("py", "3")),
        ("AzureML-sklearn-1.5:7", Wanted("AzureML-sklearn-1.5", "7")),
    ],
)
def test_parse_wanted(text: str, expected: Wanted) -> None:
    assert parse_wanted(text) == expected


@pytest.mark.parametrize("text", ["py@prod", "py env", ""])
def test_parse_wanted_rejects(text: str) -> None:
    with pytest.raises(EnvsyncError):
        parse_wanted(text)


def test_latest_is_the_most_recently_created_active_version() -> None:
    versions = [
        version(v="10", created="2026-01-01T00:00:00Z"),
        version(v="foo", created="2026-03-01T00:00:00Z"),
        version(v="bar", created="2026-04-01T00:00:00Z", archived=True),
        version(v="2", created="2026-02-01T00:00:00Z"),
    ]
    found = latest(versions)
    assert found is not None and found.version == "foo"
    assert latest([version(archived=True)]) is None


def test_show_doc_has_az_ml_shape() -> None:
    shown = show_doc(
        version(
            image=None,
            conda_file="channels:\n- conda-forge\ndependencies:\n- python=3.10\nname: probe\n",
            build=BuildContext(CONTEXT_URI, "docker/Dockerfile"),
            inference_config=ROUTES,
            description="Torch",
            tags={"team": "ml"},
            properties={"envsync.source": "environments/py.yml"},
        )
    )
    assert shown == {
        "name": "py",
        "version": "1",
        "conda_file": {"channels": ["conda-forge"], "dependencies": ["python=3.10"], "name": "probe"},
        "build": {"path": CONTEXT_URI, "dockerfile_path": "docker/Dockerfile"},
        "os_type": "linux",
        "inference_config": {
            "liveness_route": {"path": "/ok", "port": 8501},
            "readiness_route": {"path": "/ready", "port": 8501},
            "scoring_route": {"path": "/score", "port": 8502},
        },
        "description": "Torch",
        "tags": {"team": "ml"},
        "properties": {"envsync.source": "environments/py.yml"},
        "creation_context": {"created_at": "2026-01-01T00:00:00Z"},
    }
    assert json.loads(render_doc(shown, "json")) == shown
    assert yaml.safe_load(render_doc(shown, "yaml")) == shown


def test_visible_hides_curated_and_archived_unless_asked() -> None:
    containers = [
        Container("b", "1", "2"),
        Container("AzureML-x", "3", "4", curated=True),
        Container("a", "2", "3", archived=True),
    ]
    assert [c.name for c in visible(containers)] == ["b"]
    assert [c.name for c in visible(containers, curated=True, archived=True)] == ["a", "AzureML-x", "b"]


def test_table_aligns_columns() -> None:
    rows = environment_rows(
        [Container("sklearn", "12", "13"), Container("py", "1", "2", archived=True)], {"py": "2026"}
    )
    assert table(rows, ("name", "latest_version", "created", "archived")) == (
        "NAME     LATEST VERSION  CREATED  ARCHIVED\nsklearn  12\npy       1               2026     yes\n"
    )


def test_version_rows_newest_first() -> None:
    rows = version_rows([version(v="1", created="2026-01"), version(v="2", created="2026-02")])
    assert [r["version"] for r in rows] == ["2", "1"]


# -- import -------------------------------------------------------------------------------------


def test_environment_yaml_quotes_the_version_and_uses_yaml_names() -> None:
    text = environment_yaml(
        version(
            v="1",
            tags={"b": "2.10", "a": ""},
            description="Base\n",
            inference_config=ROUTES,
            os_type="windows",
        ),
        conda_file=None,
        build_path=None,
    )
    assert text.startswith(f'$schema: {SCHEMA}\nname: py\nversion: "1"\n')
    doc = yaml.safe_load(text)
    assert doc["tags"] == {"a": "", "b": "2.10"}  # strings stay strings
    assert doc["description"] == "Base\n"
    assert doc["os_type"] == "windows"
    assert doc["inference_config"]["scoring_route"] == {"path": "/score", "port": 8502}


def test_files_for_conda_and_context() -> None:
    conda = "dependencies:\n- python=3.10\n"
    item = files_for(version(conda_file=conda))
    assert (item.yaml_path, item.conda_path, item.conda_text, item.context_path) == (
        "py.yml",
        "py.conda.yml",
        conda,
        None,
    )
    assert yaml.safe_load(item.yaml_text)["conda_file"] == "py.conda.yml"
    built = files_for(version(name="torch", image=None, build=BuildContext(CONTEXT_URI, "/Dockerfile")))
    assert (built.context_path, built.context_uri) == ("torch/context", CONTEXT_URI)
    assert yaml.safe_load(built.yaml_text)["build"] == {"path": "torch/context"}


def test_contexts_az_ml_cannot_reproduce_keep_their_uri() -> None:
    md5 = "https://acct.blob.core.windows.net/azureml/LocalUpload/" + "a" * 32 + "/ctx/"
    for uri in (md5, "https://github.com/org/repo.git#main:docker"):
        item = files_for(version(image=None, build=BuildContext(uri, "sub/Dockerfile")))
        assert item.context_path is None
        assert yaml.safe_load(item.yaml_text)["build"] == {"path": uri, "dockerfile_path": "sub/Dockerfile"}
