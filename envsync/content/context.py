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
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import pathspec

from envsync.errors import SpecError

if TYPE_CHECKING:
    _Spec = pathspec.PathSpec[pathspec.Pattern]  # generic from pathspec 1.0 on

CONTENT_HASH_VERSION = 202208  # get_content_hash_version()
ARTIFACT_ORIGIN = "LocalUpload"  # _artifacts/_constants.py
IGNORE_FILES = (".amlignore", ".gitignore")  # get_ignore_file: first one that exists wins
CHUNK_SIZE = 1 << 20  # big enough that hashlib, not Python, sets the pace
OBJECT_HASH_SEED = b"Initialize for october 2021 AML CLI version"  # get_object_hash


@dataclass(frozen=True, slots=True)
class ContextFile:
    relpath: str  # posix, relative to the context root: the name hashed and uploaded
    path: Path  # absolute, symlinks resolved: what is read
    size: int


@dataclass(frozen=True, slots=True)
class ContextDigests:
    """Both sha256 hex digests az ml names a context's uploads by (`LocalUpload/<digest>/`)."""

    content: str  # get_content_hash: what envsync uploads under, and fingerprints
    object: str  # get_object_hash: what az ml 1.35.2 uploads a named environment's context under
    # False when the object hash skips files az ml uploads (files re-included under a directory
    # the ignore file names, or reached through an ignored symlink): that hash then does not
    # pin the uploaded content, so it must not stand for it.
    object_covers_upload: bool = True

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
    return ContextDigests(content.hexdigest(), obj.hexdigest(), covered)


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
    walk = _Walk(root, _ignore_spec(root))
    files = walk.run()
    # Sort key: lower-cased relpath (_get_file_list_content_hash). az ml breaks ties (names
    # differing only in case) by directory-listing order, which depends on the filesystem;
    # the case-sensitive relpath is the deterministic stand-in.
    files.sort(key=lambda f: (f.relpath.lower(), f.relpath))
    index = {f.relpath: i for i, f in enumerate(files)}
    return _Listing(files, list(_object_events(walk.top, index)))


def _object_events(top: _Dir, index: dict[str, int]) -> Iterator[bytes | int]:
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
    st = _stat(path, path.name)
    if not stat.S_ISREG(st.st_mode):
        raise SpecError(f"build context: {str(path)!r} is neither a directory nor a regular file")
    return ContextFile(path.name, path, st.st_size)


def _stat(path: Path | str, relpath: str) -> os.stat_result:
    try:
        return os.stat(path)
    except OSError as e:
        raise SpecError(f"build context: cannot read {relpath!r}: {e.strerror or e}") from e


def _ignore_spec(root: Path) -> _Spec | None:
    for name in IGNORE_FILES:
        path = root / name
        if path.exists():
            return _read_ignore(path, name)
    return None


def _read_ignore(path: Path, name: str) -> _Spec | None:
    try:
        # IgnoreFile._get_ignore_list: utf-8-sig, split as text-mode file lines, stripped
        # (the vendored GitWildMatchPattern strips both ends, so leading blanks go too).
        with open(path, encoding="utf-8-sig") as fh:
            lines = [line.strip() for line in fh]
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"build context: cannot read {name}: {e}") from e
    patterns = [p for n, line in enumerate(lines, 1) if (p := _pattern(line, f"{name}:{n}")) is not None]
    # IgnoreFile.is_file_excluded: an ignore file without patterns excludes nothing.
    return pathspec.PathSpec(patterns) if patterns else None


def _pattern(line: str, where: str) -> pathspec.Pattern | None:
    """One ignore line compiled as az ml's vendored matcher reads it (`_utils/_pathspec.py`).

    pathspec's GitIgnoreSpecPattern is that matcher's successor; where the two part ways, a
    line az ml would choke on or read differently is refused rather than guessed at.
    """
    if _NO_OP.fullmatch(line):
        # az ml compiles "!/" and "/**/" to regexes that only match paths starting with or
        # holding "//", which relative paths never do; pathspec 1.x matches every subpath.
        return None
    if "[^" in line:
        raise SpecError(f"build context: {where}: az ml reads '[^' as a literal '^'; write '[!' to negate")
    try:
        pattern = _PATTERN_CLASS(line)
    except (ValueError, re.error) as e:  # az ml fails on the same lines
        raise SpecError(f"build context: {where}: invalid pattern {line!r}: {e}") from e
    if pattern.include is None and line and line != "/" and not line.startswith("#"):
        # pathspec >= 1.0 drops lines with a bad bracket ("a[", "[]"); az ml matches them literally.
        raise SpecError(f"build context: {where}: ambiguous bracket in {line!r}; escape it as '\\['")
    return pattern if pattern.include is not None else None


def _pattern_class() -> Callable[[str], pathspec.Pattern]:
    try:
        from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern
    except ImportError:  # pathspec < 1.0 has it under its old name
        from pathspec.patterns.gitwildmatch import GitWildMatchPattern

        old: Callable[[str], pathspec.Pattern] = GitWildMatchPattern
        return old
    return GitIgnoreSpecPattern


_PATTERN_CLASS = _pattern_class()
_NO_OP = re.compile(r"!?/(\*\*/)*")


@dataclass(frozen=True, slots=True, eq=False)
class _Dir:
    path: str  # as walked: through symlinks, absolute
    rel: str  # relpath as walked ("" at the root): the name files get
    real_rel: str  # relpath of the resolved directory: what the ignore file is matched against
    ancestors: frozenset[tuple[int, int]]  # (st_dev, st_ino) of this dir and those above it
    # Whether get_object_hash walks it: _get_dir_hash skips an ignored directory whole, where
    # the content hash still matches each file below it.
    in_object: bool = True
    entries: list[tuple[str, ContextFile | _Dir]] = field(default_factory=list)  # what it hashes here


class _Walk:
    """os.walk(followlinks=True) + traverse_directory, with loop and escape checks."""

    def __init__(self, root: Path, spec: _Spec | None):
        self.root = str(root)
        self.spec = spec
        self.files: list[ContextFile] = []
        st = os.stat(self.root)
        self.top = _Dir(self.root, "", "", frozenset({(st.st_dev, st.st_ino)}))

    def run(self) -> list[ContextFile]:
        stack = [self.top]
        while stack:
            stack.extend(self._visit(stack.pop()))
        return self.files

    def _visit(self, d: _Dir) -> list[_Dir]:
        subdirs = []
        for entry in self._scan(d):
            _check_name(entry.name, d.rel)
            rel = f"{d.rel}/{entry.name}" if d.rel else entry.name
            real_rel = f"{d.real_rel}/{entry.name}" if d.real_rel else entry.name
            if entry.is_symlink():
                target = self._follow(entry, rel, real_rel)
            else:
                target = os.path.join(self.root, real_rel)
            if target is None:
                continue
            st = _stat(target, rel)
            # _get_dir_hash matches every entry, directories too, by the same rule.
            excluded = self._excluded(real_rel)
            in_object = d.in_object and not excluded
            if stat.S_ISDIR(st.st_mode):
                sub = self._subdir(d, entry.path, rel, target, st, in_object)
                subdirs.append(sub)
                if in_object:
                    d.entries.append((entry.name, sub))
            elif not excluded:
                f = self._add_file(rel, target, st)
                if in_object:
                    d.entries.append((entry.name, f))
        return subdirs

    def _scan(self, d: _Dir) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(d.path) as it:
                return sorted(it, key=lambda e: e.name)
        except OSError as e:
            # os.walk would skip an unreadable directory silently, changing the digest.
            where = repr(d.rel) if d.rel else "its root"
            raise SpecError(f"build context: cannot list {where}: {e.strerror or e}") from e

    def _follow(self, entry: os.DirEntry[str], rel: str, real_rel: str) -> str | None:
        """The link's resolved target, or None for an ignored link that is never read."""
        # A file link is matched by its own name (traverse_directory), so an ignored one may
        # dangle or point anywhere. A directory link's files are matched by their resolved
        # paths, which the ignore file cannot name outside the context: az ml would upload them.
        try:
            target = os.path.realpath(entry.path, strict=True)
        except OSError as e:
            if self._excluded(real_rel):
                return None
            link = os.readlink(entry.path)
            raise SpecError(
                f"build context: {rel!r} is a broken or looping symlink to {link!r}: {e.strerror or e}"
            ) from e
        if os.path.commonpath([self.root, target]) == self.root:
            return target
        if not os.path.isdir(target) and self._excluded(real_rel):
            return None
        raise SpecError(f"build context: {rel!r} is a symlink to {target!r}, outside the context")

    def _subdir(self, d: _Dir, path: str, rel: str, target: str, st: os.stat_result, in_object: bool) -> _Dir:
        key = (st.st_dev, st.st_ino)
        if key in d.ancestors:
            raise SpecError(f"build context: {rel!r} is a symlink loop (to {target!r})")
        real_rel = os.path.relpath(target, self.root).replace(os.sep, "/")
        return _Dir(path, rel, "" if real_rel == "." else real_rel, d.ancestors | {key}, in_object)

    def _add_file(self, rel: str, target: str, st: os.stat_result) -> ContextFile:
        if not stat.S_ISREG(st.st_mode):
            # az ml would hash a FIFO by blocking on it, or a device by reading it whole.
            raise SpecError(f"build context: {rel!r} is not a regular file")
        f = ContextFile(rel, Path(target), st.st_size)
        self.files.append(f)
        return f

    def _excluded(self, real_rel: str) -> bool:
        # IgnoreFile.is_file_excluded: gitignore patterns, last match wins, matched per file
        # (directories are never pruned, so "!dir/keep" re-includes a file under "dir/").
        return self.spec is not None and self.spec.match_file(real_rel)


def _check_name(name: str, where: str) -> None:
    try:
        name.encode()
    except UnicodeEncodeError as e:
        # az ml hashes names as UTF-8 and would crash on this one.
        raw = os.fsencode(name)
        raise SpecError(f"build context: name {raw!r} in {where or 'the root'!r} is not valid UTF-8") from e
