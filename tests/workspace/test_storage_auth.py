"""How the client reaches a datastore's blobs: chosen from its credentialsType, with the Azure AD
token for identity-based datastores and whenever listSecrets is refused; and the emulator's
identity-based storage, which takes bearer tokens only (over its own TLS)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from envsync.content.context import context_digest
from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import WorkspaceError
from envsync.http.jwt import claims_of, unsigned_jwt
from envsync.http.session import HttpOptions, StaticTokenCredential
from envsync.workspace.azure.storage import Auth, open_blob_store
from envsync.workspace.azure.workspace import AzureMLWorkspace
from tests.azurite import Azurite
from tests.workspace.recorder import Answer, Seen, recording

WS = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws-{}"
FAST = HttpOptions(retries=1, backoff=0.001, jitter=0.0)


def datastore(kind: str, endpoint: str = "core.windows.net") -> dict[str, object]:
    return {
        "name": "workspaceblobstore",
        "properties": {
            "datastoreType": "AzureBlob",
            "accountName": "acct",
            "containerName": "azureml-blobstore-1",
            "endpoint": endpoint,
            "protocol": "https",
            "credentials": {"credentialsType": kind},
        },
    }


def arm(kind: str, secrets: Answer) -> object:
    def script(seen: Seen) -> Answer:
        return secrets if seen.path.endswith("/listSecrets") else Answer(200, datastore(kind))

    return script


@pytest.mark.parametrize(
    ("kind", "secrets", "auth", "asked"),
    [
        ("Sas", Answer(200, {"secretsType": "Sas", "sasToken": "?sv=1&sig=x"}), Auth.SAS, True),
        ("AccountKey", Answer(200, {"secretsType": "AccountKey", "key": "a2V5"}), Auth.ACCOUNT_KEY, True),
        ("None", Answer(500), Auth.TOKEN, False),
        ("ServicePrincipal", Answer(500), Auth.TOKEN, False),
        (
            "AccountKey",
            Answer(403, {"error": {"code": "AuthorizationFailed", "message": "no"}}),
            f"{Auth.TOKEN} (listSecrets refused: 403)",
            True,
        ),
        (
            "AccountKey",
            Answer(400, {"error": {"code": "UserError", "message": "keys off"}}),
            f"{Auth.TOKEN} (listSecrets refused: 400)",
            True,
        ),
    ],
)
def test_the_credential_follows_credentials_type(kind: str, secrets: Answer, auth: str, asked: bool) -> None:
    with recording(arm(kind, secrets)) as server:  # type: ignore[arg-type]
        ws = AzureMLWorkspace(server.url + WS.format("w"), StaticTokenCredential("arm-token"), http=FAST)
        store = open_blob_store(ws.session, "workspaceblobstore", StaticTokenCredential("storage-token"))
    assert store.auth == auth
    assert any(s.path.endswith("/listSecrets") for s in server.seen) == asked
    assert store.client.url.split("?")[0] == "https://acct.blob.core.windows.net/azureml-blobstore-1"


def test_a_failing_list_secrets_is_not_taken_for_a_refusal() -> None:
    busy = Answer(503, {"error": {"code": "ServiceUnavailable", "message": "later"}})
    with recording(arm("Sas", busy)) as server:  # type: ignore[arg-type]
        ws = AzureMLWorkspace(server.url + WS.format("w"), StaticTokenCredential("t"), http=FAST)
        with pytest.raises(WorkspaceError, match="503"):
            open_blob_store(ws.session, "workspaceblobstore", StaticTokenCredential("s"))


@pytest.mark.parametrize("endpoint", ["http://storage.example.com/acct", "ftp://127.0.0.1/acct"])
def test_an_absolute_endpoint_must_be_https_unless_loopback(endpoint: str) -> None:
    def script(seen: Seen) -> Answer:
        return Answer(200, datastore("None", endpoint))

    with recording(script) as server:
        ws = AzureMLWorkspace(server.url + WS.format("w"), StaticTokenCredential("t"), http=FAST)
        with pytest.raises(WorkspaceError, match="refusing storage endpoint"):
            open_blob_store(ws.session, "workspaceblobstore", StaticTokenCredential("s"))


def test_emulator_tokens_name_their_audience() -> None:
    claims = claims_of(unsigned_jwt("https://storage.azure.com", now=100))
    assert claims is not None
    assert (claims["aud"], claims["nbf"], claims["exp"]) == ("https://storage.azure.com", 40, 3700)
    assert claims_of("not-a-jwt") is None


# -- the emulator's identity-based storage -------------------------------------------------------


@pytest.fixture(scope="module")
def identity_emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(secrets_type="None", tls=True, isolate=True) as handle:
        yield handle


def _context(root: Path) -> Path:
    folder = root / "ctx"
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM python:3.12\n")
    (folder / "big.bin").write_bytes(bytes(range(256)) * 40_000)  # 10 MB: blocks, ranged reads
    return folder


def test_identity_based_datastore_uploads_with_a_token_over_tls(
    identity_emulator: EmulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert identity_emulator.url.startswith("https://") and identity_emulator.ca_bundle is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(identity_emulator.ca_bundle))
    ws = AzureMLWorkspace(identity_emulator.url + WS.format("id"), StaticTokenCredential("t"), http=FAST)
    context = _context(tmp_path)
    digest = context_digest(context)
    uri = ws.upload_context(context, digest)
    assert ws._blob_store().auth == Auth.TOKEN
    back = tmp_path / "back"
    back.mkdir()
    ws.download_context(uri, back)
    assert context_digest(back) == digest
    kinds = identity_emulator.stats().by_kind
    assert "datastores.listSecrets" not in kinds and kinds.get("blob.put", 0) >= 4  # blocks + list


def test_identity_based_storage_refuses_keys_and_other_audiences(
    identity_emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = str(identity_emulator.ca_bundle)
    ws_url = identity_emulator.url + WS.format("refuse")
    auth = {"Authorization": "Bearer arm"}
    api = {"api-version": "2025-12-01"}
    props = requests.get(
        f"{ws_url}/datastores/workspaceblobstore", params=api, headers=auth, verify=bundle, timeout=5
    ).json()["properties"]
    assert props["credentials"] == {"credentialsType": "None"}
    refused = requests.post(
        f"{ws_url}/datastores/workspaceblobstore/listSecrets",
        params=api,
        headers=auth,
        verify=bundle,
        timeout=5,
    )
    assert refused.status_code == 400 and "identity-based" in refused.json()["error"]["message"]
    blob = f"{props['endpoint']}/{props['containerName']}/x"
    headers = {"x-ms-blob-type": "BlockBlob", "x-ms-version": "2025-11-05"}
    cases = {
        "SharedKey emu:AAAA": "KeyBasedAuthenticationNotPermitted",
        f"Bearer {unsigned_jwt('https://management.azure.com')}": "InvalidAuthenticationInfo",
        f"Bearer {unsigned_jwt('https://storage.azure.com', now=1)}": "InvalidAuthenticationInfo",
    }
    for header, code in cases.items():
        got = requests.put(
            blob, data=b"x", headers={**headers, "Authorization": header}, verify=bundle, timeout=5
        )
        assert (got.status_code, got.headers.get("x-ms-error-code")) == (403, code)
    good = f"Bearer {unsigned_jwt('https://storage.azure.com')}"
    assert (
        requests.put(
            blob, data=b"x", headers={**headers, "Authorization": good}, verify=bundle, timeout=5
        ).status_code
        == 201
    )


def test_plain_http_to_the_tls_emulator_is_not_answered(identity_emulator: EmulatorHandle) -> None:
    with pytest.raises(requests.ConnectionError):
        requests.get(identity_emulator.url.replace("https://", "http://") + "/_emulator/stats", timeout=5)


def test_azurite_over_a_token(azurite: Azurite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Identity-based storage that envsync did not write: Azurite checks the token's claims."""
    options = {"blob_endpoint": azurite.account_url, "blob_ca_bundle": str(azurite.ca_bundle)}
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(azurite.ca_bundle))
    with start_emulator(secrets_type="None", **options) as emulator:
        ws = AzureMLWorkspace(emulator.url + WS.format("az"), StaticTokenCredential("t"), http=FAST)
        context = _context(tmp_path)
        uri = ws.upload_context(context, context_digest(context))
        back = tmp_path / "back"
        back.mkdir()
        ws.download_context(uri, back)
        assert context_digest(back) == context_digest(context)
        wrong = AzureMLWorkspace(
            emulator.url + WS.format("az"),
            StaticTokenCredential("t"),
            http=FAST,
            storage_credential=StaticTokenCredential(unsigned_jwt("https://management.azure.com")),
        )
        with pytest.raises(WorkspaceError, match=r"403 .*Storage Blob Data Contributor") as caught:
            wrong.upload_context(context, "f" * 64)
    assert "eyJ" not in str(caught.value)  # no token in the message
