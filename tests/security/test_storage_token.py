"""A storage bearer token goes only to Azure Storage's blob hosts or to loopback, whatever host
the workspace's datastore answer names: a hostile endpoint that points an identity-based
datastore (or a refused listSecrets) at its own host gets exit 1 and one line, and no token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from envsync.errors import ExitCode
from envsync.http.jwt import unsigned_jwt
from tests.helpers import run
from tests.hostile import HostileServer, endless, json_answer
from tests.security.endpoint_fixtures import context_routes, hostile_target

STORAGE_TOKEN = unsigned_jwt("https://storage.azure.com", lifetime=7200)
IDENTITY = {"credentials": {"credentialsType": "None"}}
RULE = "envsync sends a storage token only over https to Azure Storage"

# Each row: the datastore's fields (over context_routes' defaults) and the host it names.
FOREIGN_ROWS: dict[str, tuple[dict[str, Any], str]] = {
    "endpoint-url": ({**IDENTITY, "endpoint": "https://attacker.example/acct"}, "attacker.example"),
    "endpoint-suffix": ({**IDENTITY, "endpoint": "attacker.example"}, "acct.blob.attacker.example"),
    "suffix-lookalike": (
        {**IDENTITY, "endpoint": "core.windows.net.attacker.example"},
        "acct.blob.core.windows.net.attacker.example",
    ),
    "account-userinfo": (
        {**IDENTITY, "accountName": "x@attacker.example/", "endpoint": "core.windows.net"},
        "attacker.example",
    ),
    "loopback-name-not-loopback": (
        {**IDENTITY, "endpoint": "https://localhost.example/acct"},
        "localhost.example",
    ),
}


def _refused(tmp_path: Path, hostile: HostileServer, datastore: dict[str, Any], env: dict[str, str]) -> str:
    hostile_target(tmp_path, hostile.url)
    hostile.script(context_routes(hostile.url, datastore, {}, endless(), endless()))
    result = run(tmp_path, "import", "--out", str(tmp_path / "out"), env=env)
    assert result.exit_code == ExitCode.ERROR, result.output
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert STORAGE_TOKEN not in result.output and "eyJ" not in result.output
    assert not any(s.path.startswith("/acct/") for s in hostile.seen)
    assert not any(STORAGE_TOKEN in str(s.headers) for s in hostile.seen)
    return result.stderr


@pytest.mark.parametrize(("datastore", "host"), list(FOREIGN_ROWS.values()), ids=list(FOREIGN_ROWS))
@pytest.mark.parametrize("static", [True, False], ids=["ENVSYNC_STORAGE_TOKEN", "identity-token"])
def test_an_identity_datastore_on_a_foreign_host_gets_no_token(
    tmp_path: Path, hostile: HostileServer, datastore: dict[str, Any], host: str, static: bool
) -> None:
    env = {"ENVSYNC_STORAGE_TOKEN": STORAGE_TOKEN} if static else {}
    stderr = _refused(tmp_path, hostile, datastore, env)
    assert f"error: datastore workspaceblobstore names the storage host {host}: {RULE}" in stderr


def test_a_refused_list_secrets_falls_back_to_no_token_on_a_foreign_host(
    tmp_path: Path, hostile: HostileServer
) -> None:
    hostile_target(tmp_path, hostile.url)
    routes = context_routes(
        hostile.url, {"endpoint": "https://attacker.example/acct"}, {}, endless(), endless()
    )
    routes[r"/listSecrets$"] = json_answer({"error": {"code": "AuthorizationFailed", "message": "no"}}, 403)
    hostile.script(routes)
    result = run(
        tmp_path, "import", "--out", str(tmp_path / "out"), env={"ENVSYNC_STORAGE_TOKEN": STORAGE_TOKEN}
    )
    assert result.exit_code == ExitCode.ERROR, result.output
    assert "names the storage host attacker.example" in result.stderr, result.stderr
    assert not any(STORAGE_TOKEN in str(s.headers) for s in hostile.seen)
