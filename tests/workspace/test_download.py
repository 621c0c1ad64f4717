"""Build-context download: the contextUri → blob prefix mapping, and a round trip through the
Azure ML client and the emulator (upload, then List Blobs paged by NextMarker, then Get Blob)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from envsync.content.context import context_digest
from envsync.content.location import safe_target
from envsync.emulator.server import EmulatorHandle, start_emulator
from envsync.errors import WorkspaceError
from envsync.http.session import HttpOptions, StaticTokenCredential
from envsync.workspace.azure.download import blob_prefix
from envsync.workspace.azure.storage import Auth, BlobStore
from envsync.workspace.azure.workspace import AzureMLWorkspace

STORE = BlobStore("workspaceblobstore", "acct", "azureml", "core.windows.net", Auth.SAS, client=None)
WORKSPACE = (
    "/subscriptions/0/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws-download"
)


@pytest.mark.parametrize(
    ("uri", "prefix"),
    [
        ("https://acct.blob.core.windows.net/azureml/LocalUpload/abc/torch/", "LocalUpload/abc/torch/"),
        ("https://acct.blob.core.windows.net/azureml/LocalUpload/abc/my%20ctx", "LocalUpload/abc/my ctx/"),
        (
            "azureml://subscriptions/s/resourcegroups/rg/workspaces/w/datastores/workspaceblobstore/paths/LocalUpload/abc/torch/",
            "LocalUpload/abc/torch/",
        ),
    ],
)
def test_blob_prefix(uri: str, prefix: str) -> None:
    assert blob_prefix(STORE, uri) == prefix


@pytest.mark.parametrize(
    "uri",
    [
        "https://other.blob.core.windows.net/azureml/LocalUpload/abc/torch/",
        "https://acct.blob.core.windows.net/elsewhere/LocalUpload/abc/torch/",
        "https://acct.blob.core.windows.net/azureml/",
        "azureml://subscriptions/s/resourcegroups/rg/workspaces/w/datastores/other/paths/LocalUpload/abc/torch/",
        "azureml://subscriptions/s/resourcegroups/rg/workspaces/w/datastores/workspaceblobstore/paths/",
    ],
)
def test_blob_prefix_refuses_other_places(uri: str) -> None:
    with pytest.raises(WorkspaceError, match="not a folder in the datastore's container"):
        blob_prefix(STORE, uri)


@pytest.mark.parametrize("relpath", ["../x", "a/../../x", "/etc/passwd", ""])
def test_safe_target_refuses_escapes(tmp_path: Path, relpath: str) -> None:
    with pytest.raises(WorkspaceError, match="outside the context"):
        safe_target(tmp_path, relpath, "uri")


@pytest.fixture(params=["Sas", "AccountKey"], scope="module")
def emulator(request: pytest.FixtureRequest) -> Iterator[EmulatorHandle]:
    with start_emulator(page_size=2, secrets_type=request.param) as handle:
        yield handle


def test_upload_then_download_gives_the_same_digest(emulator: EmulatorHandle, tmp_path: Path) -> None:
    context = tmp_path / "torch"
    (context / "sub").mkdir(parents=True)
    files = {
        "Dockerfile": "FROM python:3.10\n",
        "requirements.txt": "numpy\n",
        "sub/A.txt": "x",
        ".gitignore": "*.log\n",
    }
    for rel, text in files.items():
        (context / rel).write_text(text)
    (context / "debug.log").write_text("ignored, never uploaded\n")
    digest = context_digest(context)
    client = AzureMLWorkspace(
        emulator.url + WORKSPACE, StaticTokenCredential("t"), http=HttpOptions(retries=1)
    )
    uri = client.upload_context(context, digest)
    dest = tmp_path / "downloaded"
    dest.mkdir()
    client.download_context(uri, dest)
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == sorted(files)
    assert context_digest(dest) == digest
    with pytest.raises(WorkspaceError, match="no build context blobs"):
        client.download_context(uri.replace(digest, "0" * 64), tmp_path)
