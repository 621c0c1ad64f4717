"""Build-context upload to the workspace's blob datastore, the way az ml does it.

Blobs go to `LocalUpload/<digest>/<dirname>/<relpath>` on the datastore (`workspaceblobstore`
by default). The first file in hash order is the "indicator": when it already carries the
metadata `upload_status=completed` the upload is skipped (content-addressed dedupe), and that
metadata is set on it after every other file is uploaded (azureml-api.md §4).

Files are streamed, never read whole: a file up to one block goes up in one Put Blob, a larger
one in blocks, `concurrency` at a time; small files go `concurrency` files at a time. Memory
stays near `concurrency` × 2 MiB (plus the SDK's copies) whatever the context's size.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from envsync.content.walk import ContextFile
from envsync.errors import WorkspaceError
from envsync.http.redact import one_line, redact
from envsync.workspace.azure.storage import BLOCK, BlobStore, storage_error

UPLOAD_PREFIX = "LocalUpload"
STATUS_KEY = "upload_status"
COMPLETED = "completed"
T = TypeVar("T")


def upload_context(store: BlobStore, directory: Path, digest: str, *, concurrency: int = 8) -> str:
    """Upload `directory` under its content digest unless already there; return contextUri."""
    from envsync.content.context import blob_prefix, context_files, context_uri

    prefix = blob_prefix(digest, directory)
    files = context_files(directory)
    if not files:
        raise WorkspaceError(f"{directory}: the build context is empty")
    indicator = f"{prefix}/{files[0].relpath}"
    if get_metadata(store, indicator).get(STATUS_KEY) != COMPLETED:
        workers = max(1, concurrency)
        small = [f for f in files if f.size <= BLOCK]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda f: put_file(store, f"{prefix}/{f.relpath}", f, 1), small))
        for f in files:
            if f.size > BLOCK:  # one at a time, its blocks in parallel: memory stays bounded
                put_file(store, f"{prefix}/{f.relpath}", f, workers)
        # Last, so an interrupted upload is never mistaken for a complete one.
        set_metadata(store, indicator, {STATUS_KEY: COMPLETED})
    return context_uri(
        store.account, store.endpoint_suffix, store.container, digest, prefix.rsplit("/", 1)[1]
    )


def put_file(store: BlobStore, blob: str, file: ContextFile, concurrency: int) -> None:
    def put() -> None:
        with open(file.path, "rb") as stream:
            store.client.upload_blob(
                blob, stream, length=file.size, overwrite=True, max_concurrency=concurrency
            )

    call(store, f"PUT blob {blob}", put)


def get_metadata(store: BlobStore, blob: str) -> dict[str, str]:
    """The blob's metadata; empty when the blob does not exist."""
    from azure.core.exceptions import ResourceNotFoundError

    def read() -> dict[str, str]:
        try:
            properties = store.client.get_blob_client(blob).get_blob_properties()
        except ResourceNotFoundError:
            return {}
        return {str(k).lower(): str(v) for k, v in (properties.metadata or {}).items()}

    return call(store, f"HEAD blob {blob}", read)


def set_metadata(store: BlobStore, blob: str, metadata: dict[str, str]) -> None:
    call(
        store,
        f"PUT blob metadata {blob}",
        lambda: store.client.get_blob_client(blob).set_blob_metadata(metadata),
    )


def call(store: BlobStore, op: str, work: Callable[[], T]) -> T:
    """`work()`, with azure-core's failures turned into one redacted `WorkspaceError` line."""
    from azure.core.exceptions import AzureError

    try:
        return work()
    except AzureError as e:
        raise storage_error(op, e, store) from None
    except OSError as e:  # the local file vanished or became unreadable mid-upload
        raise WorkspaceError(f"{op}: {e.strerror or e}") from None
    except ValueError as e:  # azure-storage-blob's word for an answer it cannot read (no Content-Range...)
        raise WorkspaceError(
            one_line(redact(f"{op}: the storage service's answer is malformed: {e}"))
        ) from None
