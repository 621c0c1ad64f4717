from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import pytest

from envsync.content import context
from envsync.content.context import (
    ContextDigests,
    ContextFile,
    blob_prefix,
    context_digest,
    context_digests,
    context_files,
    context_uri,
)
from envsync.content.fingerprint import context_from_uri
from envsync.errors import SpecError

# Observed from azure-ai-ml 1.35.2 (azureml-api.md §4.3).
KNOWN = {"Dockerfile": b"FROM python:3.10\n", "requirements.txt": b"numpy\n", "sub/A.txt": b"x"}
KNOWN_DIGEST = "279bb1013415ea89ed9a5730fe2b6837228efc7fabfb0f1d60b90d865f2464a3"
# get_object_hash of the same tree, observed from azure-ai-ml 1.35.2 (a named environment's upload).
KNOWN_OBJECT_DIGEST = "d979c9bd552b6f661eeff6384524c83dbd3229a6e59a9f5c50eda607266028a5"


def expected(files: dict[str, bytes]) -> str:
    """The content hash written out by hand: count, '#name#' and size per file, then bytes."""
    order = sorted(files, key=lambda name: (name.lower(), name))
    h = hashlib.sha256(str(len(files)).encode("utf-8"))
    for name in order:
        h.update(b"#" + name.encode("utf-8") + b"#")
        h.update(str(len(files[name])).encode("ascii"))
    for name in order:
        h.update(files[name])
    return h.hexdigest()


Tree = dict[str, "bytes | Tree"]


def expected_object(tree: Tree) -> str:
    """The object hash written out by hand: a seed, then depth first, each directory's entries
    by lower-cased name, each entry's name then its bytes or its own entries."""
    h = hashlib.sha256(b"Initialize for october 2021 AML CLI version")

    def feed(node: Tree) -> None:
        for name in sorted(node, key=lambda n: (n.lower(), n)):
            h.update(name.encode("utf-8"))
            item = node[name]
            if isinstance(item, bytes):
                h.update(item)
            else:
                feed(item)

    feed(tree)
    return h.hexdigest()


def make(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def test_known_digest_from_azure_ai_ml(tmp_path):
    assert context_digest(make(tmp_path / "ctx", KNOWN)) == KNOWN_DIGEST
    assert expected(KNOWN) == KNOWN_DIGEST


def test_known_object_digest_from_azure_ai_ml(tmp_path):
    tree: Tree = {"Dockerfile": KNOWN["Dockerfile"], "requirements.txt": b"numpy\n", "sub": {"A.txt": b"x"}}
    assert expected_object(tree) == KNOWN_OBJECT_DIGEST
    assert context_digests(make(tmp_path / "ctx", KNOWN)) == ContextDigests(KNOWN_DIGEST, KNOWN_OBJECT_DIGEST)


def test_object_digest_walks_depth_first_and_hashes_directory_names(tmp_path):
    # "a.b" sorts before "a/x" by relpath (the content hash) but after "a" by name (the
    # object hash); empty directories count in the object hash only.
    files = {"a.b": b"1", "a/x": b"2", "a/Y/z": b"3", "B.txt": b"", "a-c/d": b"4"}
    root = make(tmp_path / "ctx", files)
    (root / "empty" / "deeper").mkdir(parents=True)
    tree: Tree = {
        "a": {"x": b"2", "Y": {"z": b"3"}},
        "a.b": b"1",
        "a-c": {"d": b"4"},
        "B.txt": b"",
        "empty": {"deeper": {}},
    }
    assert context_digests(root) == ContextDigests(expected(files), expected_object(tree))


def test_object_digest_skips_ignored_directories_whole(tmp_path):
    # The object hash matches directories too and never enters an ignored one; "out/" does
    # not match the directory "out" itself, so its name is hashed though its files are not.
    amlignore = b"build\n*.log\n!keep.log\nout/\n"
    kept = {".amlignore": amlignore, "keep.log": b"k", "src/app.py": b"a"}
    root = make(tmp_path / "ctx", {**kept, "build/x": b"b", "x.log": b"x", "out/o": b"o", "src/y.log": b"y"})
    tree: Tree = {".amlignore": amlignore, "keep.log": b"k", "out": {}, "src": {"app.py": b"a"}}
    digests = context_digests(root)
    assert digests == ContextDigests(expected(kept), expected_object(tree))
    assert digests.aliases == (digests.object,)


def test_object_digest_that_misses_uploaded_files_is_no_alias(tmp_path):
    # az ml uploads build/keep.txt (files are matched one by one) but its object hash never
    # looks inside build/: that hash does not pin what was uploaded.
    gitignore = b"build\n!build/keep.txt\n"
    root = make(tmp_path / "ctx", {".gitignore": gitignore, "build/keep.txt": b"k", "build/o": b"o"})
    digests = context_digests(root)
    assert digests.content == expected({".gitignore": gitignore, "build/keep.txt": b"k"})
    assert digests.object == expected_object({".gitignore": gitignore})
    assert not digests.object_covers_upload and digests.aliases == ()


def test_each_file_is_read_once_unless_the_orders_part(tmp_path, monkeypatch):
    reads: list[tuple[str, int]] = []
    feed = context._feed
    monkeypatch.setattr(
        context, "_feed", lambda ds, f, b: (reads.append((f.relpath, len(ds))), feed(ds, f, b))[1]
    )
    context_digests(make(tmp_path / "same", KNOWN))
    assert reads == [("Dockerfile", 2), ("requirements.txt", 2), ("sub/A.txt", 2)]
    reads.clear()
    context_digests(make(tmp_path / "parted", {"a.b": b"1", "a/x": b"2", "c": b"3"}))
    # Content order a.b, a/x, c; object order a/x, a.b, c: a.b alone is read again.
    assert reads == [("a.b", 1), ("a/x", 2), ("a.b", 1), ("c", 2)]


def test_nested_dirs_empty_files_and_empty_dirs(tmp_path):
    files = {"a/b/c/deep.txt": b"deep", "a/empty": b"", "top": b"t", "a/b/x.py": b"print()\n"}
    root = make(tmp_path, files)
    (root / "nothing" / "here").mkdir(parents=True)  # empty directories are not hashed
    assert context_digest(root) == expected(files)


def test_amlignore_negation_last_match_wins_and_is_itself_hashed(tmp_path):
    amlignore = b"# build outputs\n*.log\n!keep.log\nbuild/\n!build/keep.txt\n  tmp  \n"
    kept = {".amlignore": amlignore, "keep.log": b"k", "build/keep.txt": b"b", "src/app.py": b"a"}
    dropped = {"x.log": b"x", "build/out.bin": b"o", "sub/y.log": b"y", "tmp/t": b"t", "a/tmp": b""}
    root = make(tmp_path, {**kept, **dropped, ".gitignore": b"src/\n"})
    # .amlignore wins over .gitignore, so src/ stays and .gitignore itself is hashed.
    assert context_digest(root) == expected({**kept, ".gitignore": b"src/\n"})


def test_gitignore_patterns_are_relative_to_the_root(tmp_path):
    gitignore = b"/only_top.txt\r\ndocs/*.md\r\n*.pyc\r\n"
    kept = {".gitignore": gitignore, "sub/only_top.txt": b"1", "docs/sub/b.md": b"2", "a/docs/c.md": b"3"}
    root = make(tmp_path, {**kept, "only_top.txt": b"x", "docs/a.md": b"y", "p/q.pyc": b"z"})
    assert context_digest(root) == expected(kept)


def test_ignore_file_with_bom_and_no_patterns(tmp_path):
    root = make(tmp_path, {".amlignore": "\ufeff# nothing\n\n".encode(), "a": b"a"})
    assert context_digest(root) == expected({".amlignore": "\ufeff# nothing\n\n".encode(), "a": b"a"})
    (root / ".amlignore").write_bytes("\ufeffa\n".encode())
    assert context_digest(root) == expected({".amlignore": "\ufeffa\n".encode()})


def test_patterns_az_ml_reads_as_no_ops(tmp_path):
    # The vendored matcher compiles these to regexes that need a leading or doubled "/".
    amlignore = b"/\n!/\n/**/\n/**/**/\n!/**/\n"
    root = make(tmp_path, {".amlignore": amlignore, "a/b/c": b"c", "d": b"d"})
    assert context_digest(root) == expected({".amlignore": amlignore, "a/b/c": b"c", "d": b"d"})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[^a]*", r"\.amlignore:2: az ml reads '\[\^' as a literal '\^'"),
        ("!", r"\.amlignore:2: invalid pattern '!'"),
        ("[z-a]", r"\.amlignore:2: invalid pattern '\[z-a\]'"),
        ("trailing\\ ", r"\.amlignore:2: invalid pattern 'trailing\\\\'"),
    ],
)
def test_patterns_az_ml_reads_differently_or_fails_on_are_refused(tmp_path, line, message):
    root = make(tmp_path, {".amlignore": f"ok\n{line}\n".encode(), "a": b"a"})
    with pytest.raises(SpecError, match=message):
        context_files(root)


def test_unclosed_bracket_is_literal_or_refused(tmp_path):
    # az ml matches "a[" literally; pathspec >= 1.0 drops it, so there it is refused.
    root = make(tmp_path, {".amlignore": b"a[\n", "a[": b"1", "ab": b"2"})
    if int(version("pathspec").split(".")[0]) >= 1:
        with pytest.raises(SpecError, match=r"ambiguous bracket in 'a\['"):
            context_files(root)
    else:
        assert [f.relpath for f in context_files(root)] == [".amlignore", "ab"]


def test_order_is_lower_cased_relpath_with_case_sensitive_ties(tmp_path):
    files = {"Zebra": b"z", "apple": b"a", "sub_b": b"u", "sub/A.txt": b"s", "b.txt": b"1", "B.txt": b"2"}
    if not _case_sensitive(tmp_path):
        del files["b.txt"]
    root = make(tmp_path, files)
    names = [f.relpath for f in context_files(root)]
    assert names[:2] == ["apple", "B.txt"] and names.index("sub/A.txt") < names.index("sub_b")
    assert context_digest(root) == expected(files)


def test_unicode_names_hash_as_utf8(tmp_path):
    files = {"données/é.txt": "é".encode(), "日本.txt": b"jp", "Ωmega": b""}
    assert context_digest(make(tmp_path, files)) == expected(files)


def test_name_that_is_not_utf8_is_refused(tmp_path):
    root = make(tmp_path / "ctx", {"sub/ok": b"1"})
    try:
        with open(os.fsencode(root / "sub") + b"/bad\xff", "wb") as fh:
            fh.write(b"2")
    except (OSError, ValueError):
        pytest.skip("this filesystem only takes UTF-8 names")
    with pytest.raises(SpecError, match=r"name b'bad\\xff' in 'sub' is not valid UTF-8"):
        context_files(root)


def test_context_files_is_the_hash_listing(tmp_path):
    root = make(tmp_path / "ctx", KNOWN)
    assert context_files(root) == [
        ContextFile("Dockerfile", root.resolve() / "Dockerfile", 17),
        ContextFile("requirements.txt", root.resolve() / "requirements.txt", 6),
        ContextFile("sub/A.txt", root.resolve() / "sub" / "A.txt", 1),
    ]


def test_single_file_is_a_list_of_one_named_by_its_base_name(tmp_path):
    path = make(tmp_path, {"d/Dockerfile": b"FROM x\n"}) / "d" / "Dockerfile"
    assert context_digest(path) == expected({"Dockerfile": b"FROM x\n"})
    # get_object_hash of a file: its bytes alone, no name.
    seed = b"Initialize for october 2021 AML CLI version"
    assert context_digests(path).object == hashlib.sha256(seed + b"FROM x\n").hexdigest()


def test_files_larger_than_a_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr(context, "CHUNK_SIZE", 7)
    files = {"big": bytes(range(256)) * 5, "small": b"s", "empty": b""}
    assert context_digests(make(tmp_path, files)) == ContextDigests(expected(files), expected_object(files))


def test_file_changed_after_listing_is_an_error(tmp_path, monkeypatch):
    root = make(tmp_path, {"a": b"abc"})
    listing = context._Listing([ContextFile("a", root / "a", 2)], [b"a", 0])
    monkeypatch.setattr(context, "_listing", lambda d: listing)
    with pytest.raises(SpecError, match="'a' changed while it was being hashed"):
        context_digest(root)


# Symlinks: followed inside the context, refused when they lead out of it.


def test_symlinked_file_and_directory_inside_are_followed(tmp_path):
    root = make(tmp_path / "ctx", {"real/f.txt": b"f", "data.bin": b"d"})
    (root / "alias").symlink_to("real", target_is_directory=True)
    (root / "link.bin").symlink_to(root / "data.bin")
    files = {"real/f.txt": b"f", "alias/f.txt": b"f", "data.bin": b"d", "link.bin": b"d"}
    tree: Tree = {"real": {"f.txt": b"f"}, "alias": {"f.txt": b"f"}, "data.bin": b"d", "link.bin": b"d"}
    assert context_digests(root) == ContextDigests(expected(files), expected_object(tree))
    assert {f.relpath: f.path for f in context_files(root)}["alias/f.txt"] == root / "real" / "f.txt"


def test_ignore_patterns_match_the_resolved_directory(tmp_path):
    # traverse_directory resolves the walked directory before matching, so "real/" also
    # drops the files reached through alias/, and "alias/" drops nothing.
    root = make(tmp_path / "ctx", {".amlignore": b"real/\nalias/\n", "real/f": b"f", "g": b"g"})
    (root / "alias").symlink_to("real")
    assert context_digest(root) == expected({".amlignore": b"real/\nalias/\n", "g": b"g"})


def test_context_reached_through_a_symlink(tmp_path):
    root = make(tmp_path / "real", KNOWN)
    (tmp_path / "link").symlink_to(root, target_is_directory=True)
    assert context_digest(tmp_path / "link") == KNOWN_DIGEST
    assert blob_prefix(KNOWN_DIGEST, tmp_path / "link") == f"LocalUpload/{KNOWN_DIGEST}/real"


def test_symlink_outside_the_context_is_refused(tmp_path):
    root = make(tmp_path / "ctx", {"Dockerfile": b"FROM x\n"})
    secret = make(tmp_path, {"secret": b"s"}) / "secret"
    (root / "x").symlink_to(secret)
    with pytest.raises(SpecError) as e:
        context_digest(root)
    assert str(e.value) == f"build context: 'x' is a symlink to '{secret.resolve()}', outside the context"


def test_directory_symlink_outside_is_refused_even_when_ignored(tmp_path):
    root = make(tmp_path / "ctx", {".gitignore": b"vendor/\n", "vendor/mine": b"m"})
    (root / "vendor" / "lib").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(SpecError, match="'vendor/lib' is a symlink to .*, outside the context"):
        context_files(root)


def test_ignored_file_symlink_outside_is_skipped(tmp_path):
    root = make(tmp_path / "ctx", {".gitignore": b".venv/\n", "a": b"a"})
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").symlink_to(sys.executable)
    (root / ".venv" / "bin" / "gone").symlink_to(tmp_path / "missing")
    assert context_digest(root) == expected({".gitignore": b".venv/\n", "a": b"a"})


def test_symlink_loops_are_reported(tmp_path):
    root = make(tmp_path / "ctx", {"sub/a": b"a"})
    (root / "sub" / "up").symlink_to("..", target_is_directory=True)
    with pytest.raises(SpecError, match="'sub/up' is a symlink loop"):
        context_files(root)
    (root / "sub" / "up").unlink()
    (root / "self").symlink_to("self")
    with pytest.raises(SpecError, match="'self' is a broken or looping symlink"):
        context_files(root)


def test_broken_symlink_is_reported(tmp_path):
    root = make(tmp_path / "ctx", {"a": b"a"})
    (root / "gone").symlink_to("nowhere")
    with pytest.raises(SpecError, match="'gone' is a broken or looping symlink to 'nowhere'"):
        context_files(root)


@contextmanager
def _locked(path, restore):
    path.chmod(0)
    try:
        yield
    finally:
        path.chmod(restore)


def _check_unreadable(root):
    with _locked(root / "locked", 0o644), pytest.raises(SpecError, match="cannot read 'locked'"):
        context_digest(root)
    with _locked(root / "dir", 0o755), pytest.raises(SpecError, match="cannot list 'dir'"):
        context_files(root)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_unreadable_file_and_directory_are_errors(tmp_path):
    if os.geteuid() != 0:
        _check_unreadable(make(tmp_path / "ctx", {"ok": b"1", "locked": b"2", "dir/f": b"3"}))
        return
    # Root reads everything: check as `nobody`, in a forked child, in a folder it may enter.
    with tempfile.TemporaryDirectory() as shared:
        os.chmod(shared, 0o777)  # noqa: S103 - a private temp folder the child must write
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit status
            try:
                os.setgid(65534)
                os.setuid(65534)
                _check_unreadable(make(Path(shared) / "ctx", {"ok": b"1", "locked": b"2", "dir/f": b"3"}))
                os._exit(0)
            except BaseException:
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_unless_ignored(tmp_path):
    root = make(tmp_path / "ctx", {"a": b"a"})
    os.mkfifo(root / "pipe")
    with pytest.raises(SpecError, match="'pipe' is not a regular file"):
        context_files(root)
    (root / ".amlignore").write_bytes(b"pipe\n")
    assert [f.relpath for f in context_files(root)] == [".amlignore", "a"]


def test_missing_context_and_bad_ignore_file(tmp_path):
    with pytest.raises(SpecError, match="build context: '.*missing'"):
        context_digest(tmp_path / "missing")
    root = make(tmp_path / "ctx", {".amlignore": b"\xff\xfe bad\n"})
    with pytest.raises(SpecError, match="cannot read .amlignore"):
        context_files(root)


# Where the context goes.


def test_blob_prefix_uses_the_resolved_directory_name(tmp_path, monkeypatch):
    ctx = make(tmp_path / "docker", KNOWN)
    assert blob_prefix(KNOWN_DIGEST, ctx) == f"LocalUpload/{KNOWN_DIGEST}/docker"
    monkeypatch.chdir(ctx)
    assert blob_prefix(KNOWN_DIGEST, Path(".")) == f"LocalUpload/{KNOWN_DIGEST}/docker"


def test_context_uri_round_trips_through_fingerprint():
    uri = context_uri("acct", "core.windows.net", "azureml-blobstore-1", KNOWN_DIGEST, "docker")
    assert uri == f"https://acct.blob.core.windows.net/azureml-blobstore-1/LocalUpload/{KNOWN_DIGEST}/docker/"
    assert context_from_uri(uri) == KNOWN_DIGEST


def _case_sensitive(directory: Path) -> bool:
    probe = directory / "CaseProbe"
    probe.touch()
    try:
        return not (directory / "caseprobe").exists()
    finally:
        probe.unlink()
