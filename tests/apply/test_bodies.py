"""The REST bodies apply writes."""

from __future__ import annotations

from pathlib import Path

from envsync.apply.bodies import version_body
from envsync.spec.model import BuildSpec, EnvironmentSpec
from envsync.workspace import VersionBody


def test_planned_tags_replace_a_body_whose_content_was_already_computed() -> None:
    body = VersionBody(image="python:3.12", conda_file="dependencies: [python=3.12]\n", tags={"a": "1"})
    content = body.content()  # caches the parsed content on the instance
    tagged = body.with_tags({"b": "2"})
    assert tagged.tags == {"b": "2"} and body.tags == {"a": "1"}
    assert tagged.content() == content and tagged.conda_file == body.conda_file


def test_a_spec_body_carries_the_uploaded_context_and_provenance() -> None:
    spec = EnvironmentSpec(
        name="torch",
        source=Path("/r/environments/torch.yml"),
        build=BuildSpec(path="/r/environments/torch", dockerfile_path="./docker/Dockerfile", digest="d" * 64),
        tags={"team": "ml"},
    )
    body = version_body(spec, context_uri="https://a.blob/c/LocalUpload/dd/torch/", properties={"p": "1"})
    assert body.build is not None
    assert (body.build.context_uri, body.build.dockerfile_path) == (
        "https://a.blob/c/LocalUpload/dd/torch/",
        "docker/Dockerfile",
    )
    assert (body.tags, body.properties, body.image, body.conda_file) == (
        {"team": "ml"},
        {"p": "1"},
        None,
        None,
    )
