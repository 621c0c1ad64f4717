"""No output shows a credential: a SAS in a build context's URL (shown as `?<sas redacted>`,
and no part of the fingerprint), or a password in a URL's userinfo."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsync.errors import ExitCode
from tests.helpers import run

CONTEXT = "https://acct.blob.core.windows.net/ctx/r/"
SAS = "sv=2023-11-03&se=2099-01-01&sp=r&sig=S3CRETsig%3D"


def write_remote(root: Path, sas: str) -> None:
    path = root / "environments" / "remote.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"{CONTEXT}?{sas}" if sas else CONTEXT
    path.write_text(f'name: remote\ndescription: from a blob\nbuild:\n  path: "{url}"\n')


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_remote(tmp_path, SAS)
    return tmp_path


def test_a_build_context_sas_shows_in_no_output(root: Path) -> None:
    outputs = [run(root, "plan", "--format", fmt).output for fmt in ("text", "markdown", "json")]
    applied = run(root, "apply", "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.output
    outputs.append(applied.output)
    for args in (("show", "remote"), ("show", "remote", "--format", "json"), ("list", "--format", "json")):
        outputs.append(run(root, *args).output)
    outputs += [run(root, "plan", "--refresh", "-v").output, run(root, "drift", "--format", "json").output]
    assert all("S3CRET" not in out for out in outputs), outputs
    assert all(f"{CONTEXT}?<sas redacted>" in out for out in outputs[:3]), outputs[:3]
    assert f"{CONTEXT}?<sas redacted>" in outputs[4]


def test_rotating_the_sas_is_no_new_version(root: Path) -> None:
    assert run(root, "apply", "--auto-approve").exit_code == ExitCode.OK
    write_remote(root, SAS.replace("S3CRETsig", "R0TATED"))
    planned = run(root, "plan", "--refresh", "--detailed-exitcode")
    assert planned.exit_code == ExitCode.OK, planned.output
    write_remote(root, "")  # the path alone names the same content
    assert run(root, "plan", "--refresh", "--detailed-exitcode").exit_code == ExitCode.OK


@pytest.mark.parametrize("endpoint", ["ftp://user:PASSWORD@127.0.0.1:1", "http://user:PASSWORD@127.0.0.1:1"])
def test_a_password_in_the_arm_endpoint_is_never_printed(root: Path, endpoint: str) -> None:
    (root / "envsync.yaml").write_text(
        "default_target: emu\ntargets:\n  emu: {type: azureml, subscription_id: s, resource_group: rg, workspace: ws1}\n"
    )
    result = run(root, "plan", env={"ENVSYNC_ARM_ENDPOINT": endpoint})
    assert result.exit_code == ExitCode.ERROR
    assert "PASSWORD" not in result.output
    assert "<redacted>@127.0.0.1:1" in result.output


def test_a_password_in_a_build_context_url_is_never_printed(tmp_path: Path) -> None:
    path = tmp_path / "environments" / "bad.yml"
    path.parent.mkdir()
    path.write_text("name: bad\nbuild:\n  path: ftp://user:PASSWORD@host/ctx\n")
    result = run(tmp_path, "validate")
    assert result.exit_code == ExitCode.ERROR
    assert "PASSWORD" not in result.output and "<redacted>@host" in result.output
