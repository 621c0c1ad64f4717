"""A version az ml created from git's build context names it by its object hash, not by the
content hash envsync uploads under: the planner must still see it as git's content."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsync.content.context import context_digests
from envsync.plan.model import Action, ObservedEnvironment, ObservedState
from envsync.plan.planner import PlanOptions, plan
from envsync.spec.load import EnvironmentSpec, load_spec
from envsync.workspace import BuildContext, Container, RemoteVersion, VersionBody

YAML = "name: py\nbuild:\n  path: ctx\n"
CONTEXT = {"Dockerfile": b"FROM python:3.10\n", "requirements.txt": b"numpy\n", "sub/A.txt": b"x"}
# azure-ai-ml 1.35.2 get_object_hash of CONTEXT, as `az ml environment create` names the upload.
OBJECT_HASH = "d979c9bd552b6f661eeff6384524c83dbd3229a6e59a9f5c50eda607266028a5"


def git_spec(root: Path, yaml: str = YAML) -> EnvironmentSpec:
    for name, data in CONTEXT.items():
        path = root / "ctx" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "py.yml").write_text(yaml, encoding="utf-8")
    spec, problems = load_spec(root / "py.yml", root=root)
    assert spec is not None, problems
    return spec


def workspace(*versions: VersionBody) -> ObservedState:
    remote = tuple(RemoteVersion("py", str(n), body, f"2026-01-0{n}") for n, body in enumerate(versions, 1))
    container = Container("py", remote[-1].version, str(len(remote) + 1))
    return ObservedState(
        containers={"py": container},
        environments={"py": ObservedEnvironment("py", container, tuple(reversed(remote)))},
    )


def created_by_az_ml(digest: str, dockerfile: str = "Dockerfile") -> VersionBody:
    uri = f"https://a.blob.core.windows.net/c/LocalUpload/{digest}/ctx/"
    return VersionBody(build=BuildContext(uri, dockerfile), os_type="Linux")


def actions(spec: EnvironmentSpec, state: ObservedState) -> list[tuple[Action, str | None]]:
    return [(c.action, c.version) for c in plan([spec], state, PlanOptions(root=spec.source.parent)).changes]


def test_the_spec_carries_the_object_hash_as_an_alias(tmp_path):
    spec = git_spec(tmp_path)
    assert spec.build is not None
    digests = context_digests(tmp_path / "ctx")
    assert (spec.build.digest, spec.build.aliases) == (digests.content, (OBJECT_HASH,))
    assert spec.content().context == digests.content  # the fingerprint stays on the content hash


def test_version_named_by_the_object_hash_is_a_no_op(tmp_path):
    spec = git_spec(tmp_path)
    assert actions(spec, workspace(created_by_az_ml(OBJECT_HASH))) == [(Action.NOOP, "1")]


def test_explicit_version_named_by_the_object_hash_is_a_no_op(tmp_path):
    spec = git_spec(tmp_path, YAML + "version: '1'\n")
    assert actions(spec, workspace(created_by_az_ml(OBJECT_HASH))) == [(Action.NOOP, "1")]


@pytest.mark.parametrize("digest", ["e" * 64, "f" * 32])
def test_version_named_by_another_digest_plans_a_new_version(tmp_path, digest):
    spec = git_spec(tmp_path)
    assert actions(spec, workspace(created_by_az_ml(digest))) == [(Action.NEW_VERSION, "2")]


def test_alias_only_stands_for_the_context(tmp_path):
    # Same context under the object hash, but another Dockerfile: different content.
    spec = git_spec(tmp_path)
    assert actions(spec, workspace(created_by_az_ml(OBJECT_HASH, "sub/Dockerfile"))) == [
        (Action.NEW_VERSION, "2")
    ]


def test_version_named_by_the_content_hash_still_matches(tmp_path):
    spec = git_spec(tmp_path)
    assert spec.build is not None and spec.build.digest is not None
    state = workspace(created_by_az_ml(OBJECT_HASH, "other"), created_by_az_ml(spec.build.digest))
    assert actions(spec, state) == [(Action.NOOP, "2")]
