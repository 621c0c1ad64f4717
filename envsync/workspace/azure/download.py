"""Build-context download from the workspace's blob datastore: the reverse of `upload.py`.

A contextUri names a folder of blobs, as `https://{account}.blob.{suffix}/{container}/<folder>/`
(what az ml and envsync write) or as a datastore URI
(`azureml://subscriptions/…/datastores/{datastore}/paths/<folder>/`, a form the service may answer
with). The blobs under it are listed and streamed to files under `dest`, relative paths kept.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from envsync.content.location import context_folder, safe_target
from envsync.errors import WorkspaceError
from envsync.workspace.azure.storage import BLOCK, BlobStore
from envsync.workspace.azure.upload import call


def download_context(store: BlobStore, context_uri: str, dest: Path, *, concurrency: int = 8) -> None:
    """Write every blob under `context_uri` into `dest`, keeping paths relative to it."""
    prefix = blob_prefix(store, context_uri)
    blobs = call(
        store,
        f"GET blob list {store.container}/{prefix}",
        lambda: [(b.name, b.size or 0) for b in store.client.list_blobs(name_starts_with=prefix)],
    )
    if not blobs:
        raise WorkspaceError(f"{context_uri}: no build context blobs there")
    targets = [(name, size, safe_target(dest, name[len(prefix) :], context_uri)) for name, size in blobs]
    workers = max(1, concurrency)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda t: get_file(store, t[0], t[2], 1), [t for t in targets if t[1] <= BLOCK]))
    for name, size, target in targets:
        if size > BLOCK:  # one at a time, its ranges in parallel: memory stays bounded
            get_file(store, name, target, workers)


def get_file(store: BlobStore, blob: str, target: Path, concurrency: int) -> None:
    def get() -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            store.client.download_blob(blob, max_concurrency=concurrency).readinto(out)

    call(store, f"GET blob {blob}", get)


def blob_prefix(store: BlobStore, context_uri: str) -> str:
    """`LocalUpload/<digest>/<dirname>/` from a contextUri on this datastore's container."""
    return context_folder(
        context_uri, account=store.account, container=store.container, datastore=store.datastore
    )
