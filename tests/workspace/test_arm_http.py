"""The ARM transport: retries with Retry-After, paging by nextLink, error mapping, endpoints."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from envsync.errors import ConflictError, NotFoundError, WorkspaceError
from envsync.http.session import HttpOptions, StaticTokenCredential, check_endpoint, new_session
from envsync.workspace import ListView
from envsync.workspace.azure.arm import next_link_url
from envsync.workspace.azure.workspace import AzureMLWorkspace
from tests.workspace.recorder import Answer, Seen, recording, sequence

WS = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w"
FAST = HttpOptions(retries=3, backoff=0.001, backoff_max=0.01, jitter=0.0)
CONTAINER = {"name": "py", "properties": {"tags": {}, "latestVersion": "1"}}


def client(url: str, http: HttpOptions = FAST) -> AzureMLWorkspace:
    return AzureMLWorkspace(url + WS, StaticTokenCredential("test-token-123"), http=http)


def test_429_with_retry_after_is_waited_out_then_succeeds() -> None:
    script = sequence(
        Answer(429, {"error": {"code": "TooManyRequests", "message": "slow"}}, {"Retry-After": "1"}),
        Answer(200, CONTAINER),
    )
    with recording(script) as server:
        start = time.monotonic()
        found = client(server.url).get_environment("py")
        elapsed = time.monotonic() - start
    assert found is not None and found.latest_version == "1"
    assert len(server.seen) == 2
    assert elapsed >= 0.9  # Retry-After honoured, not the 1 ms backoff


def test_503_twice_then_success() -> None:
    busy = Answer(503, {"error": {"code": "ServiceUnavailable", "message": "busy"}})
    with recording(sequence(busy, busy, Answer(200, CONTAINER))) as server:
        assert client(server.url).get_environment("py") is not None
    assert [s.method for s in server.seen] == ["GET"] * 3


def test_put_is_retried_after_a_connection_reset() -> None:
    resource = {"name": "1", "properties": {"image": "img"}}
    with recording(sequence(Answer(reset=True), Answer(200, resource))) as server:
        from envsync.workspace import VersionBody

        got = client(server.url).create_version("py", "1", VersionBody(image="img"))
    assert got.version == "1" and [s.method for s in server.seen] == ["PUT", "PUT"]


def test_exhausted_retries_give_one_clear_error() -> None:
    busy = Answer(503, {"error": {"code": "ServiceUnavailable", "message": "try later"}})
    with recording(sequence(busy)) as server, pytest.raises(WorkspaceError) as info:
        client(server.url).get_environment("py")
    assert (
        str(info.value) == "GET environments/py: 503 ServiceUnavailable: try later (gave up after 4 attempts)"
    )
    assert info.value.status == 503 and len(server.seen) == 4


def test_refused_connections_give_a_clear_error() -> None:
    expected = r"^GET environments/py: 127\.0\.0\.1:9 refused the connection: check the endpoint"
    with pytest.raises(WorkspaceError, match=expected):
        client("http://127.0.0.1:9", HttpOptions(retries=1, backoff=0, jitter=0)).get_environment("py")


def test_409_maps_to_conflict_with_the_service_message() -> None:
    message = "Environment x with version 1 is already registered and cannot be changed."
    with recording(sequence(Answer(409, {"error": {"code": "UserError", "message": message}}))) as server:
        from envsync.workspace import VersionBody

        with pytest.raises(ConflictError) as info:
            client(server.url).create_version("x", "1", VersionBody(image="other"))
    assert str(info.value) == f"PUT environments/x/versions/1: 409 UserError: {message}"
    assert (info.value.status, info.value.code) == (409, "UserError")


def test_get_returns_none_on_404_and_update_raises_not_found() -> None:
    with recording(sequence(Answer(404, {"error": {"code": "UserError", "message": "nope"}}))) as server:
        ws = client(server.url)
        assert ws.get_version("x", "1") is None
        assert ws.get_environment("x") is None
        assert ws.list_versions("x") == []
        with pytest.raises(NotFoundError):
            ws.update_version("x", "1", description="d", tags={})


def test_paging_keeps_the_next_links_skip_but_sets_our_api_version() -> None:
    """The spec's own list example carries another api-version in nextLink; azure-ai-ml replaces
    it with the client's. The opaque $skip and the other filters stay exactly as given."""

    def script(seen: Seen) -> Answer:
        if "$skip" not in seen.query:
            link = f"{server_url[0]}{seen.path}?api-version=2025-07-01-preview&listViewType=All&$skip=opaque%2Btoken"
            return Answer(200, {"value": [dict(CONTAINER, name="a")], "nextLink": link})
        return Answer(200, {"value": [dict(CONTAINER, name="b")], "nextLink": None})

    server_url: list[str] = []
    with recording(script) as server:
        server_url.append(server.url)
        names = [c.name for c in client(server.url).list_environments(ListView.ALL)]
    assert names == ["a", "b"]
    first, second = server.seen
    assert first.query == {"api-version": "2025-12-01", "listViewType": "All"}
    assert second.query == {"api-version": "2025-12-01", "listViewType": "All", "$skip": "opaque+token"}


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (
            "https://m.example/p?api-version=2025-07-01-preview&$skip=a%2Fb",
            "https://m.example/p?api-version=V&$skip=a%2Fb",
        ),
        (
            "https://m.example/p?$skip=x&API-VERSION=1&$top=5",
            "https://m.example/p?api-version=V&$skip=x&$top=5",
        ),
        ("https://m.example/p?$skip=x", "https://m.example/p?api-version=V&$skip=x"),
        ("https://M.EXAMPLE/p?%24skip=t", "https://M.EXAMPLE/p?api-version=V&%24skip=t"),
    ],
)
def test_next_link_url_sets_only_the_api_version(link: str, expected: str) -> None:
    assert next_link_url(link, "https://m.example/base", "V") == expected


def test_next_link_to_another_host_is_refused() -> None:
    """The bearer token goes wherever nextLink points: only the workspace's own origin."""
    answer = Answer(200, {"value": [CONTAINER], "nextLink": "https://evil.example.com/next?$skip=1"})
    with (
        recording(sequence(answer)) as server,
        pytest.raises(WorkspaceError, match="refusing to send the token"),
    ):
        list(client(server.url).list_environments())
    assert len(server.seen) == 1


def test_bearer_token_is_sent() -> None:
    with recording(sequence(Answer(200, CONTAINER))) as server:
        client(server.url).get_environment("py")
    assert server.seen[0].headers["authorization"] == "Bearer test-token-123"


@pytest.mark.parametrize(
    "url", ["http://management.azure.com", "http://10.0.0.5:8080", "http://example.com/x"]
)
def test_plain_http_to_non_loopback_is_refused(url: str) -> None:
    with pytest.raises(WorkspaceError, match="refusing plain http"):
        check_endpoint(url)
    with pytest.raises(WorkspaceError, match="refusing plain http"):
        AzureMLWorkspace(url + WS, StaticTokenCredential("t"))


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:5", "https://management.azure.com"]
)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    assert check_endpoint(url + "/") == url


def test_next_link_cannot_downgrade_to_plain_http() -> None:
    answer = Answer(200, {"value": [CONTAINER], "nextLink": "http://evil.example.com/next?$skip=1"})
    with recording(sequence(answer)) as server, pytest.raises(WorkspaceError, match="refusing plain http"):
        list(client(server.url).list_environments())


def test_the_ca_bundle_named_by_requests_ca_bundle_is_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert new_session(HttpOptions()).verify == str(bundle)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    with pytest.raises(WorkspaceError, match=r"REQUESTS_CA_BUNDLE names .*missing.pem, which does not exist"):
        new_session(HttpOptions())
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert new_session(HttpOptions()).verify is True
