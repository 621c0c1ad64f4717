"""Blob requests (azure-storage-blob's own retry policy) report their retries as ARM's do."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from envsync.emulator.server import start_emulator
from envsync.http.retrying import RetryNotice
from envsync.http.session import HttpOptions, StaticTokenCredential
from envsync.workspace.azure.workspace import AzureMLWorkspace

WS = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/wsr"


def test_each_blob_retry_is_reported() -> None:
    notices: list[RetryNotice] = []
    options = HttpOptions(retries=2, backoff=0.001, jitter=0.0, on_retry=notices.append)
    with start_emulator() as handle:
        store = AzureMLWorkspace(
            handle.url + WS, StaticTokenCredential("t0ken-for-tests"), http=options
        ).blob_store()
        handle.set_faults(throttle_rate=0.999999)  # storage throttles with 503 ServerBusy
        with pytest.raises(HttpResponseError):
            next(iter(store.client.list_blobs()), None)
    assert [(n.op, n.attempt, n.attempts, n.reason) for n in notices] == [
        ("GET blob", 1, 3, "503"),
        ("GET blob", 2, 3, "503"),
    ]
