"""`envsync import` against a hostile endpoint: what it answers never writes outside --out,
never lands a credential in a YAML, and a refusal is one line with exit 1 and nothing written."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from envsync.errors import ExitCode
from tests.hostile import HostileServer, json_answer
from tests.security.endpoint_fixtures import files_under, hostile_target

MD5_URI = "https://acct.blob.core.windows.net/azureml/ExperimentRun/dcid.0123456789abcdef0123456789abcdef/"
SHA_URI = "https://acct.blob.core.windows.net/azureml/LocalUpload/" + "ab" * 32 + "/ctx/"


def script(server: HostileServer, name: Any, version: Any = "1", **props: Any) -> None:
    props.setdefault("image", "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1")
    container = {"name": name, "properties": {"latestVersion": "1", "isArchived": False}}
    server.script(
        {
            r"/environments$": json_answer({"value": [container]}),
            r"/versions$": json_answer({"value": [{"name": version, "properties": props}]}),
        }
    )


@pytest.fixture
def repo(tmp_path: Path, hostile: HostileServer) -> Path:
    root = tmp_path / "repo"
    hostile_target(root, hostile.url)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "keep.txt").write_text("mine\n")
    return root


def run_import(root: Path, *extra: str) -> Any:
    from tests.helpers import run

    return run(root, "import", "--out", str(root / "environments"), *extra)


@pytest.mark.parametrize(
    ("name", "version", "needle"),
    [
        ("../../outside/x", "1", "environment name '../../outside/x' is not one the service allows"),
        ("/tmp/abs", "1", "environment name '/tmp/abs' is not one the service allows"),
        ("ok\n::warning::forged", "1", r"environment name 'ok\n::warning::forged'"),
        ("env.with.dots", "1", "environment name 'env.with.dots'"),
        ("fine", "1\n::add-mask::x", r"version '1\n::add-mask::x' is not a printable string"),
        (
            "fine",
            "",
            "GET environments/fine/versions: the answer's 'name' is an empty string, expected a non-empty",
        ),
    ],
    ids=["climbs-out", "absolute", "newline", "dots", "version-newline", "version-empty"],
)
def test_a_name_or_version_that_cannot_be_a_file_is_refused(
    repo: Path, hostile: HostileServer, name: Any, version: Any, needle: str
) -> None:
    script(hostile, name, version)
    before = files_under(repo.parent)
    result = run_import(repo)
    assert result.exit_code == ExitCode.ERROR, result.output
    [line] = result.stderr.splitlines()
    assert needle in line and ("nothing imported" in line or "answer's" in line)
    assert files_under(repo.parent) == before


def test_a_sas_in_a_kept_context_uri_is_never_written(repo: Path, hostile: HostileServer) -> None:
    sas = "sv=2025-01-05&se=2030-01-01&sp=r&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"
    script(hostile, "legacy", image=None, build={"contextUri": f"{MD5_URI}?{sas}"})
    result = run_import(repo)
    assert result.exit_code == ExitCode.OK, result.output
    written = (repo / "environments" / "legacy.yml").read_text()
    assert f"path: {MD5_URI}" in written
    for secret in ("sig=", "sv=", "se=", "c2VjcmV0"):
        assert all(secret not in p.read_text() for p in (repo / "environments").rglob("*.yml"))
    assert "note: legacy:1: its contextUri carried a credential (SAS or password); written without it" in (
        result.stderr
    )


def test_a_password_in_a_context_uri_is_never_written(repo: Path, hostile: HostileServer) -> None:
    script(
        hostile, "legacy", image=None, build={"contextUri": MD5_URI.replace("https://", "https://u:hunter2@")}
    )
    result = run_import(repo)
    assert result.exit_code == ExitCode.OK, result.output
    assert "hunter2" not in (repo / "environments" / "legacy.yml").read_text()


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_a_symlinked_file_under_out_is_not_written_through(
    repo: Path, hostile: HostileServer, force: bool
) -> None:
    script(hostile, "fine")
    out = repo / "environments"
    out.mkdir()
    os.symlink(repo.parent / "outside" / "keep.txt", out / "fine.yml")
    result = run_import(repo, *(["--force"] if force else []))
    assert result.exit_code == ExitCode.ERROR, result.output
    assert result.stderr.splitlines() == [
        f"error: {out / 'fine.yml'}: is a symlink, and import never writes through one; nothing imported"
    ]
    assert (repo.parent / "outside" / "keep.txt").read_text() == "mine\n"


def test_force_never_replaces_a_context_folder_outside_out(repo: Path, hostile: HostileServer) -> None:
    script(hostile, "ctx", image=None, build={"contextUri": SHA_URI})
    out = repo / "environments"
    out.mkdir()
    os.symlink(repo.parent / "outside", out / "ctx")  # <out>/ctx/context would be outside/context
    (repo.parent / "outside" / "context").mkdir()
    (repo.parent / "outside" / "context" / "Dockerfile").write_text("FROM mine\n")
    before = files_under(repo.parent / "outside")
    result = run_import(repo, "--force")
    assert result.exit_code == ExitCode.ERROR, result.output
    assert "outside" in result.stderr and "nothing imported" in result.stderr
    assert files_under(repo.parent / "outside") == before
    assert not any(s.path.startswith("/") and "datastores" in s.path for s in hostile.seen)


def test_credentials_in_text_the_endpoint_wrote_are_masked_in_the_files(
    repo: Path, hostile: HostileServer
) -> None:
    sas = "https://acct.blob.core.windows.net/c/data?sv=2025-01-05&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"
    conda = "name: x\ndependencies:\n- pip:\n  - --extra-index-url https://me:hunter2token@pkgs.example/simple\n  - numpy\n"
    script(hostile, "leaky", description=f"data at {sas}", tags={"src": sas}, condaFile=conda, image=None)
    result = run_import(repo)
    assert result.exit_code == ExitCode.OK, result.output
    written = "".join(p.read_text() for p in (repo / "environments").rglob("*.yml"))
    for secret in ("c2VjcmV0", "hunter2token"):
        assert secret not in written
    assert "https://<redacted>@pkgs.example/simple" in written and "numpy" in written
    assert (
        "note: leaky:1: its description, tag src, conda file carried what looks like a credential"
        in result.stderr
    )
