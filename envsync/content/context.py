"""The build-context digests, byte-exact with azure-ai-ml's content hash (version 202208)
and with its object hash (`get_object_hash`).

envsync names its uploads by the content hash. `az ml environment create` names the upload of
a named environment's context by the object hash instead, so that hash is computed too, as an
alias that recognises az ml's versions of the same context. Each rule below names the
azure-ai-ml 1.35.2 function it follows (all in `azure/ai/ml/_utils/_asset_utils.py` unless
said otherwise), so a difference can be traced.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

from envsync.content.walk import ContextFile, Dir, Walk, ignore_spec, stat_of
from envsync.errors import SpecError

CONTENT_HASH_VERSION = 202208  # get_content_hash_version()
ARTIFACT_ORIGIN = "LocalUpload"  # _artifacts/_constants.py
CHUNK_SIZE = 1 << 20  # big enough that hashlib, not Python, sets the pace
OBJECT_HASH_SEED = b"Initialize for october 2021 AML CLI version"  # get_object_hash


@dataclass(frozen=True, slots=True)
class ContextDigests:
    """Both sha256 hex digests az ml names a context's uploads by (`LocalUpload/<digest>/`)."""

    content: str  # get_content_hash: what envsync uploads under, and fingerprints
    object: str  # get_object_hash: what az ml 1.35.2 uploads a named environment's context under
    # False when the object hash skips files az ml uploads (files re-included under a directory
    # the ignore file names, or reached through an ignored symlink): that hash then does not
    # pin the uploaded content, so it must not stand for it.
    object_covers_upload: bool = True
    # What an upload sends, (relpath, bytes) in hash order: for policy checks, not identity.
    files: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    @property
    def aliases(self) -> tuple[str, ...]:
        """Other digests that name this same content: the object hash, when it can."""
        return (self.object,) if self.object_covers_upload and self.object != self.content else ()


def context_digest(directory: Path) -> str:
    """sha256 hex digest of the context, as envsync (and az ml's content hash) names it."""
    return context_digests(directory).content


def context_digests(directory: Path) -> ContextDigests:
    """The content hash and the object hash of the context, reading each file once if it can.

    The content hash takes the bytes of all files in lower-cased-relpath order; the object
    hash walks depth first, each directory's entries in lower-cased-name order, so where the
    two orders part ("a.txt" sorts before "a/x" in the first, after it in the second) a file
    cannot feed both at once without holding it in memory. Files are read in content-hash order
    and fed to both hashes while the orders agree; a file the object hash reaches after it was
    read is read again, streamed, for the object hash alone.
    """
    listing = _listing(directory)
    files, events = listing.files, listing.object_events
    # _get_file_list_content_hash: count, then "#relpath#" and size per file, then all bytes.
    content = hashlib.sha256(str(len(files)).encode())
    for f in files:
        content.update(f"#{f.relpath}#".encode())
        content.update(str(f.size).encode())
    obj = hashlib.sha256(OBJECT_HASH_SEED)
    buffer = bytearray(CHUNK_SIZE)
    j = 0  # next object-hash event
    for i, f in enumerate(files):
        j = _catch_up(obj, events, j, i, files, buffer)
        if j < len(events) and events[j] == i:
            _feed((content, obj), f, buffer)
            j += 1
        else:
            _feed((content,), f, buffer)
    _catch_up(obj, events, j, len(files), files, buffer)
    covered = sum(isinstance(e, int) for e in events) == len(files)
    listed = tuple((f.relpath, f.size) for f in files)
    return ContextDigests(content.hexdigest(), obj.hexdigest(), covered, listed)


def context_files(directory: Path) -> list[ContextFile]:
    """The files the content hash covers, in hash order (also the upload order)."""
    return _listing(directory).files


@dataclass(frozen=True, slots=True)
class _Listing:
    files: list[ContextFile]  # content-hash order
    # The object hash's input in order: a name (bytes), or the bytes of files[index] (int).
    object_events: list[bytes | int]


def _listing(directory: Path) -> _Listing:
    root = _resolve_root(directory)
    if not root.is_dir():
        # get_content_hash: a single file is a list of one, named by its base name;
        # get_object_hash: just its bytes.
        return _Listing([_single_file(root)], [0])
    walk = Walk(root, ignore_spec(root))
    files = walk.run()
    # Sort key: lower-cased relpath (_get_file_list_content_hash). az ml breaks ties (names
    # differing only in case) by directory-listing order, which depends on the filesystem;
    # the case-sensitive relpath is the deterministic stand-in.
    files.sort(key=lambda f: (f.relpath.lower(), f.relpath))
    index = {f.relpath: i for i, f in enumerate(files)}
    return _Listing(files, list(_object_events(walk.top, index)))


def _object_events(top: Dir, index: dict[str, int]) -> Iterator[bytes | int]:
    """_get_dir_hash: depth first; per directory, entries by lower-cased name, each one's name
    then its bytes or its own entries. Ties (names differing only in case) go by listing order
    in az ml; as for the content hash, the case-sensitive name stands in for it."""
    stack = [iter(sorted(top.entries, key=lambda e: (e[0].lower(), e[0])))]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        name, item = entry
        yield name.encode()
        if isinstance(item, ContextFile):
            yield index[item.relpath]
        else:
            stack.append(iter(sorted(item.entries, key=lambda e: (e[0].lower(), e[0]))))


def _catch_up(
    obj: hashlib._Hash,
    events: list[bytes | int],
    j: int,
    read: int,
    files: list[ContextFile],
    buffer: bytearray,
) -> int:
    """Feed the object hash its events up to the first file not read yet (index >= `read`)."""
    while j < len(events):
        event = events[j]
        if isinstance(event, bytes):
            obj.update(event)
        elif event < read:  # already read for the content hash: read it again
            _feed((obj,), files[event], buffer)
        else:
            break
        j += 1
    return j


def blob_prefix(digest: str, directory: Path) -> str:
    """`LocalUpload/<digest>/<dirname>`: where az ml puts the context's blobs."""
    # BlobStorageClient.upload names the folder by Path(source).name, and the SDK resolves
    # relative build paths first, so "." and "ctx/" still get the directory's real name.
    return f"{ARTIFACT_ORIGIN}/{digest}/{directory.resolve().name}"


def context_uri(
    account: str, blob_endpoint_suffix: str, container: str, digest: str, directory_name: str
) -> str:
    """The contextUri az ml sends for an uploaded context; the trailing slash is required."""
    # ArtifactStorageInfo.full_storage_path + "/" (_check_and_upload_env_build_context:
    # "EMS requires it").
    account_url = f"https://{account}.blob.{blob_endpoint_suffix}"
    return urljoin(account_url, f"{container}/{ARTIFACT_ORIGIN}/{digest}/{directory_name}") + "/"


def _resolve_root(directory: Path) -> Path:
    try:
        return Path(os.path.realpath(directory, strict=True))
    except OSError as e:
        raise SpecError(f"build context: {str(directory)!r}: {e.strerror or e}") from e


def _feed(digests: tuple[hashlib._Hash, ...], f: ContextFile, buffer: bytearray) -> None:
    view = memoryview(buffer)
    total = 0
    try:
        with open(f.path, "rb", buffering=0) as fh:
            while n := fh.readinto(buffer):
                chunk = view[:n]
                for digest in digests:
                    digest.update(chunk)
                total += n
    except OSError as e:
        raise SpecError(f"build context: cannot read {f.relpath!r}: {e.strerror or e}") from e
    if total != f.size:
        # The size is already in the hash: a file that changes now would make a digest
        # that names content nobody can upload.
        raise SpecError(f"build context: {f.relpath!r} changed while it was being hashed")


def _single_file(path: Path) -> ContextFile:
    st = stat_of(path, path.name)
    if not stat.S_ISREG(st.st_mode):
        raise SpecError(f"build context: {str(path)!r} is neither a directory nor a regular file")
    return ContextFile(path.name, path, st.st_size)
