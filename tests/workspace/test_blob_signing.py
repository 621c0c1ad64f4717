"""The emulator's Shared Key check (`emulator/blob_auth.py`, the only hand-written signing left:
envsync's client signs through azure-storage-blob) held to azure-storage-blob's own signing:
each request the SDK signs, captured on the wire, verifies; a changed byte does not."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import io
from collections.abc import Callable
from typing import Any

import pytest
from azure.storage.blob import ContainerClient

from envsync.emulator.blob_auth import string_to_sign
from tests.workspace.recorder import Answer, Seen, recording, sequence

ACCOUNT = "emuacct"
KEY = base64.b64encode(b"k" * 32).decode()


def test_shared_key_string_to_sign_matches_the_documented_example() -> None:
    """The example in learn.microsoft.com 'Authorize with Shared Key' (Get Container Metadata)."""
    headers = {"x-ms-date": "Fri, 26 Jun 2015 23:39:12 GMT", "x-ms-version": "2015-02-21"}
    query = {"restype": "container", "comp": "metadata", "timeout": "20"}
    expected = (
        "GET\n\n\n\n\n\n\n\n\n\n\n\n"
        "x-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2015-02-21\n"
        "/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20"
    )
    assert string_to_sign("myaccount", "GET", "/mycontainer", query, headers) == expected


def test_zero_content_length_is_signed_as_empty() -> None:
    text = string_to_sign(
        "a", "PUT", "/c/b", {"comp": "metadata"}, {"Content-Length": "0", "x-ms-meta-k": "v"}
    )
    assert text.split("\n")[3] == ""


def _signature(seen: Seen) -> str:
    text = string_to_sign(ACCOUNT, seen.method, seen.path, seen.query, seen.headers)
    return base64.b64encode(hmac.new(base64.b64decode(KEY), text.encode(), hashlib.sha256).digest()).decode()


OPERATIONS: dict[str, Callable[[ContainerClient], Any]] = {
    "put blob": lambda c: c.upload_blob("LocalUpload/d/ctx/Dockerfile", b"FROM x\n", overwrite=True),
    "put blob, odd name": lambda c: c.upload_blob("LocalUpload/d/my ctx/ü+%&=a.txt", b"x", overwrite=True),
    "put empty blob": lambda c: c.upload_blob("LocalUpload/d/ctx/empty", b"", overwrite=True),
    "put block": lambda c: c.get_blob_client("b").stage_block("YmxvY2stMQ==", b"x" * 10),
    "put block list": lambda c: c.get_blob_client("b").commit_block_list(
        ["YmxvY2stMQ=="], metadata={"a": "1"}
    ),
    "set metadata": lambda c: c.get_blob_client("b").set_blob_metadata(
        {"upload_status": "completed", "name": "n"}
    ),
    "get properties": lambda c: c.get_blob_client("b").get_blob_properties(),
    "get range": lambda c: c.download_blob("b", offset=4, length=100).readall(),
    "list blobs": lambda c: list(c.list_blobs(name_starts_with="LocalUpload/d/")),
    "list blobs, marker": lambda c: next(
        c.list_blobs(name_starts_with="L").by_page(continuation_token="x y")
    ),
    "stream upload": lambda c: c.upload_blob("s", io.BytesIO(b"y" * 64), length=64, overwrite=True),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_request_the_sdk_signs_verifies(operation: str) -> None:
    with recording(sequence(Answer(200, None))) as server:
        client = ContainerClient(
            f"{server.url}/_blob/{ACCOUNT}",
            "azureml-blobstore-x",
            credential={"account_name": ACCOUNT, "account_key": KEY},
            retry_total=0,
        )
        # The recorder's answers are not storage's: what the SDK sent is what counts.
        with contextlib.suppress(Exception):
            OPERATIONS[operation](client)
    assert server.seen
    for seen in server.seen:
        scheme, _, value = seen.headers["authorization"].partition(" ")
        assert (scheme, value) == ("SharedKey", f"{ACCOUNT}:{_signature(seen)}")
        tampered = Seen(seen.method, seen.path + "x", seen.query, seen.headers, seen.body)
        assert value != f"{ACCOUNT}:{_signature(tampered)}"
