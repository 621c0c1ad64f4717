"""Build-context download from the workspace's blob datastore: the reverse of `upload.py`.

A contextUri names a folder of blobs, as `https://{account}.blob.{suffix}/{container}/<folder>/`
(what az ml and envsync write) or as a datastore URI
(`azureml://subscriptions/…/datastores/{datastore}/paths/<folder>/`, a form the service may answer
with). The blobs under it are listed and streamed to files under `dest`, relative paths kept.

The listing is the endpoint's word, and is held to it: each blob is read with a range of its
listed size, and the adapter under azure-storage-blob (`envsync.http.caps`) cuts off an answer
longer than the range, so a blob listed as 16 B is never read past 16 B; the listing itself is
capped in blobs and in total bytes before anything is downloaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from envsync.content.location import context_folder, safe_target
from envsync.errors import WorkspaceError
from envsync.workspace.azure.storage import BLOCK, BlobStore
from envsync.workspace.azure.upload import call

MAX_BLOBS = 100_000  # files in one build context
MAX_BYTES = 32 << 30  # bytes in one build context (benchmarks/ move 1 GB ones)


def download_context(store: BlobStore, context_uri: str, dest: Path, *, concurrency: int = 8) -> None:
    """Write every blob under `context_uri` into `dest`, keeping paths relative to it."""
    prefix = blob_prefix(store, context_uri)
    op = f"GET blob list {store.container}/{prefix}"
    blobs = call(store, op, lambda: listed(store.client.list_blobs(name_starts_with=prefix), prefix, op))
    if not blobs:
        raise WorkspaceError(f"{context_uri}: no build context blobs there")
    targets = [(name, size, safe_target(dest, name[len(prefix) :], context_uri)) for name, size in blobs]
    workers = max(1, concurrency)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        small = [t for t in targets if t[1] <= BLOCK]
        list(pool.map(lambda t: get_file(store, t[0], t[1], t[2], 1), small))
    for name, size, target in targets:
        if size > BLOCK:  # one at a time, its ranges in parallel: memory stays bounded
            get_file(store, name, size, target, workers)


def listed(blobs: Iterable[Any], prefix: str, op: str) -> list[tuple[str, int]]:
    """(name, size) of each listed blob, each under `prefix` with a size, within the caps."""
    found: list[tuple[str, int]] = []
    total = 0
    for blob in blobs:
        name, size = blob.name, blob.size
        if not isinstance(name, str) or not name.startswith(prefix):
            raise WorkspaceError(f"{op}: listed blob {name!r} is not under {prefix}")
        if not isinstance(size, int) or size < 0:
            raise WorkspaceError(f"{op}: blob {name!r} is listed without a size (Content-Length {size!r})")
        total += size
        found.append((name, size))
        if len(found) > MAX_BLOBS or total > MAX_BYTES:
            raise WorkspaceError(
                f"{op}: more than {MAX_BLOBS:,} blobs or {MAX_BYTES >> 30} GiB listed; not downloading"
            )
    return found


def get_file(store: BlobStore, blob: str, size: int, target: Path, concurrency: int) -> None:
    """`blob` into `target`, read as `size` bytes (what the listing said) and no more."""

    def get() -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            if size:  # a range of no bytes cannot be asked for; the digest check covers an empty one
                got = store.client.download_blob(blob, offset=0, length=size, max_concurrency=concurrency)
                got.readinto(out)

    call(store, f"GET blob {blob}", get)


def blob_prefix(store: BlobStore, context_uri: str) -> str:
    """`LocalUpload/<digest>/<dirname>/` from a contextUri on this datastore's container."""
    return context_folder(
        context_uri, account=store.account, container=store.container, datastore=store.datastore
    )
