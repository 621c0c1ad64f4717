"""Answers capped in bytes and depth: a body that never ends, a Content-Length that lies, JSON
nested past any reason, a blob longer than its listing. Each is exit 1 with one line naming
the request, read no further than the cap (memory stays bounded), nothing written."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from envsync.errors import ExitCode
from envsync.gitops.github_http import GitHubError, json_of
from envsync.gitops.github_http import new_session as github_session
from envsync.http.caps import ANSWER_MAX_BYTES
from tests.helpers import run
from tests.hostile import Answer, HostileServer, endless, json_answer
from tests.security.endpoint_fixtures import DIGEST, context_routes, files_under, hostile_target

LIST = r"/workspaces/ws1/environments$"
LABEL = "GET environments"


def nested(depth: int) -> bytes:
    return b'{"v": ' + b"[" * depth + b"]" * depth + b"}"


ROWS = {
    "endless-body": (endless(), f"{LABEL}: the answer went past envsync's cap of 32 MiB per answer"),
    "lying-length": (
        Answer(b"{}", headers={"Content-Length": str(1 << 40)}),
        f"{LABEL}: the answer declares 1,099,511,627,776 bytes, more than envsync's cap of 32 MiB per answer",
    ),
    "nested-past-recursion": (Answer(nested(100_000)), f"{LABEL}: the answer nests deeper than 64 levels"),
    "nested-past-cap": (Answer(nested(80)), f"{LABEL}: the answer nests deeper than 64 levels"),
    "not-json": (Answer(b"<html>oops</html>"), f"{LABEL}: the answer is not JSON"),
    "json-list": (json_answer([1, 2]), f"{LABEL}: expected a JSON object, got list"),
}


@pytest.mark.parametrize(("answer", "message"), list(ROWS.values()), ids=list(ROWS))
def test_an_unbounded_answer_is_cut_off_with_one_line(
    tmp_path: Path, hostile: HostileServer, answer: Answer, message: str
) -> None:
    hostile_target(tmp_path, hostile.url)
    hostile.script({LIST: answer})
    tracemalloc.start()
    try:
        result = run(tmp_path, "list")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == ExitCode.ERROR, result.output
    assert result.stderr.splitlines() == [f"error: {message}"]
    assert peak < 3 * ANSWER_MAX_BYTES  # the cap was what stopped it, not memory running out


def test_a_github_answer_that_never_ends_is_a_github_error(hostile: HostileServer) -> None:
    hostile.script({r"/repos/o/r/issues$": endless()})
    session = github_session(retries=0, backoff=0.0, max_wait=0.0)
    with pytest.raises(GitHubError, match=r"^GET /repos/o/r/issues: the answer went past envsync's cap"):
        session.get(f"{hostile.url}/repos/o/r/issues", timeout=30)


def test_github_json_nested_too_deep_is_a_github_error(hostile: HostileServer) -> None:
    hostile.script({r"/repos/o/r$": Answer(nested(100_000))})
    response = github_session(retries=0, backoff=0.0, max_wait=0.0).get(
        f"{hostile.url}/repos/o/r", timeout=30
    )
    with pytest.raises(GitHubError, match=r"^GET /repos/o/r: the answer nests deeper than 64 levels$"):
        json_of(response)


# -- build context downloads ---------------------------------------------------------------------


def blob_list(*blobs: tuple[str, str]) -> Answer:
    items = "".join(
        f"<Blob><Name>LocalUpload/{DIGEST}/ctx/{name}</Name><Properties><Content-Length>{size}"
        "</Content-Length><BlobType>BlockBlob</BlobType></Properties></Blob>"
        for name, size in blobs
    )
    xml = f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs>{items}</Blobs><NextMarker/></EnumerationResults>'
    return Answer(xml.encode(), headers={"Content-Type": "application/xml", "x-ms-version": "2025-01-05"})


def script_context(server: HostileServer, listing: Answer, blob: Answer) -> None:
    server.script(context_routes(server.url, {}, {}, listing, blob))


BLOB = f"GET /acct/azureml/LocalUpload/{DIGEST}/ctx/Dockerfile"
CONTEXT_ROWS = {
    "blob-longer-than-listed": (
        blob_list(("Dockerfile", "16")),
        Answer(endless().body, 206, {"Content-Range": "bytes 0-15/16", "x-ms-version": "2025-01-05"}),
        f"{BLOB}: the answer went past the 16 bytes asked for",
    ),
    "blob-without-range": (
        blob_list(("Dockerfile", "16")),
        endless(),
        f"GET blob LocalUpload/{DIGEST}/ctx/Dockerfile: the storage service's answer is malformed: Required Content-Range",
    ),
    "blob-declares-more": (
        blob_list(("Dockerfile", "16")),
        Answer(b"FROM x\n", headers={"Content-Length": str(256 << 20)}),
        f"{BLOB}: the answer declares 268,435,456 bytes, more than the 16 bytes asked for",
    ),
    "listing-past-total-cap": (
        blob_list(("a", str(20 << 30)), ("b", str(20 << 30))),
        endless(),
        f"GET blob list azureml/LocalUpload/{DIGEST}/ctx/: more than 100,000 blobs or 32 GiB listed; not downloading",
    ),
    "listing-escapes-prefix": (
        Answer(
            blob_list(("x", "1")).body.replace(b"LocalUpload/", b"Elsewhere/"),  # type: ignore[union-attr]
            headers={"Content-Type": "application/xml"},
        ),
        endless(),
        "is not under LocalUpload/",
    ),
    "listing-endless": (
        endless(b"<Blob>" * 8192),
        endless(),
        "the answer went past envsync's cap of 32 MiB per answer",
    ),
}


@pytest.mark.parametrize(("listing", "blob", "message"), list(CONTEXT_ROWS.values()), ids=list(CONTEXT_ROWS))
def test_a_build_context_is_read_no_further_than_its_listing(
    tmp_path: Path, hostile: HostileServer, listing: Answer, blob: Answer, message: str
) -> None:
    hostile_target(tmp_path, hostile.url)
    script_context(hostile, listing, blob)
    result = run(tmp_path, "import", "--out", str(tmp_path / "environments"))
    assert result.exit_code == ExitCode.ERROR, result.output
    [line] = result.stderr.splitlines()
    assert message in line
    assert not (tmp_path / "environments").exists() or files_under(tmp_path / "environments") == {}
    assert "sig=" not in line


def test_a_large_ordinary_answer_is_read_whole(tmp_path: Path, hostile: HostileServer) -> None:
    """The caps cut off what no workspace answers, not a big page: 5,000 versions, ~1 MB."""
    hostile_target(tmp_path, hostile.url)
    tags = {"t": "x" * 100}
    page = [{"name": str(i), "properties": {"image": "img", "tags": tags}} for i in range(5000)]
    hostile.script({r"/environments/env/versions$": json_answer({"value": page})})
    result = run(tmp_path, "list", "--name", "env", "--format", "json")
    assert result.exit_code == ExitCode.OK, result.output
    assert result.output.count('"version": "') == 5000
