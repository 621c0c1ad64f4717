"""Credentials never reach messages, logs, exceptions or reprs."""

from __future__ import annotations

import logging

import pytest
import requests

from envsync.errors import WorkspaceError
from envsync.http.redact import MASK, RedactingFilter, redact, redact_url, url_identity
from envsync.http.session import HttpOptions, StaticTokenCredential
from envsync.workspace.azure.arm import ArmSession
from envsync.workspace.azure.storage import Auth, BlobStore, storage_error
from envsync.workspace.azure.workspace import AzureMLWorkspace

SAS = "sv=2023-11-03&ss=b&sp=racwl&se=2099-01-01T00%3A00%3A00Z&sig=AbC%2Bdef%2F123%3D"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi.abc-def_ghi", "eyJ0eXAiOiJKV1QiLCJhbGciOi"),
        (f"Max retries exceeded with url: /c/LocalUpload/x/Dockerfile?{SAS} (Caused by ...)", "AbC%2Bdef"),
        ("https://acct.blob.core.windows.net/c/b?comp=metadata&sig=s3cr3t%3D&sv=1", "s3cr3t"),
        ("SharedKey emu123:Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==", "Zm9vYmFyYmF6"),
        (
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=bXlrZXlteWtleQ==;Endpoint",
            "bXlrZXlteWtleQ",
        ),
        ('{"secretsType": "AccountKey", "key": "c2VjcmV0a2V5c2VjcmV0"}', "c2VjcmV0a2V5c2VjcmV0"),
        ('{"secretsType":"Sas","sasToken":"sv=1&sig=zzz"}', "sig=zzz"),
        ("{'Authorization': 'Bearer tok.en.value'}", "tok.en.value"),
        ("invalid ARM endpoint 'ftp://user:PASSWORD@127.0.0.1:1'", "PASSWORD"),
        ("cloning https://x-access-token:ghp_abc123@github.com/o/r.git failed", "ghp_abc123"),
    ],
)
def test_patterns_mask_credentials(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert MASK in out


def test_known_secret_values_are_masked_anywhere() -> None:
    assert redact("token is abcdefgh12345 here", ["abcdefgh12345"]) == f"token is {MASK} here"


def test_plain_text_is_left_alone() -> None:
    text = "PUT environments/x/versions/1: 409 UserError: Environment x with version 1 is already registered"
    assert redact(text) == text


def test_log_filter_redacts_urllib3_style_records() -> None:
    record = logging.LogRecord(
        "urllib3.connectionpool",
        logging.WARNING,
        __file__,
        1,
        "Retrying (%r) after connection broken by '%r': %s",
        ("Retry(total=5)", "RemoteDisconnected()", f"/c/b?{SAS}"),
        None,
    )
    RedactingFilter().filter(record)
    assert "AbC%2Bdef" not in record.getMessage()


def test_connection_error_text_with_sas_is_redacted() -> None:
    """A requests ConnectionError quotes the URL (SAS and all); the WorkspaceError must not."""
    session = ArmSession(
        "http://127.0.0.1:9/sub",
        StaticTokenCredential("tok-1234567890"),
        api_version="2025-12-01",
        options=HttpOptions(retries=1, backoff=0, jitter=0, connect_timeout=0.5),
    )
    with pytest.raises(WorkspaceError) as info:
        session.raw("PUT blob x", "PUT", f"http://127.0.0.1:9/_blob/a/c/x?{SAS}", data=b"x")
    assert "AbC%2Bdef" not in str(info.value)
    assert "refused the connection" in str(info.value)


def test_reprs_hide_tokens_and_keys() -> None:
    cred = StaticTokenCredential("supersecret-token")
    assert "supersecret" not in repr(cred) and "supersecret" not in repr(cred.get_token("scope"))
    store = BlobStore("ds", "acct", "c", "core.windows.net", Auth.SAS, client=SAS, secrets=(SAS, "k" * 44))
    assert "sig" not in repr(store) and "kkkk" not in repr(store)
    ws = AzureMLWorkspace("http://127.0.0.1:9/ws", cred)
    assert "supersecret" not in repr(ws) and "supersecret" not in repr(ws.session)


def test_error_from_response_redacts_echoed_secrets() -> None:
    response = requests.Response()
    response.status_code = 403
    response._content = (
        b'{"error": {"code": "AuthorizationFailed", "message": "token Bearer abc.def.ghi denied"}}'
    )
    from envsync.workspace.azure.arm import error_from_response

    error = error_from_response("GET environments", response)
    assert "abc.def.ghi" not in str(error)
    assert str(error).startswith("GET environments: 403 AuthorizationFailed: ")


@pytest.mark.parametrize(
    ("url", "shown", "identity"),
    [
        (
            "https://acct.blob.core.windows.net/ctx/r/?sv=2023-11-03&se=2099&sig=AbC%3D",
            "https://acct.blob.core.windows.net/ctx/r/?<sas redacted>",
            "https://acct.blob.core.windows.net/ctx/r/",
        ),
        ("ftp://user:pw@127.0.0.1:1/x", "ftp://<redacted>@127.0.0.1:1/x", "ftp://127.0.0.1:1/x"),
        (
            "https://a.example/ctx?snapshot=2024",
            "https://a.example/ctx?snapshot=2024",
            "https://a.example/ctx?snapshot=2024",
        ),
        ("https://a.example/ctx/", "https://a.example/ctx/", "https://a.example/ctx/"),
    ],
)
def test_urls_show_no_credentials_and_name_their_resource_without_them(
    url: str, shown: str, identity: str
) -> None:
    assert redact_url(url) == shown
    assert url_identity(url) == identity


def test_plain_words_with_at_signs_are_left_alone() -> None:
    text = "mail admin@example.com about env@latest"
    assert redact(text) == text


def test_storage_errors_redact_the_datastores_secret() -> None:
    from azure.core.exceptions import HttpResponseError

    key = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U="
    store = BlobStore("ds", "acct", "c", "core.windows.net", Auth.ACCOUNT_KEY, client=None, secrets=(key,))
    error = HttpResponseError(message=f"Server failed: key {key} and url https://x/c/b?{SAS}\nRequestId:1")
    text = str(storage_error("PUT blob b", error, store))
    assert key not in text and "AbC%2Bdef" not in text
    assert text.startswith("PUT blob b: request failed HttpResponseError: Server failed") and "\n" not in text
