"""The GitHub client and `envsync github` against a fake GitHub API served over real HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from envsync.cli import cli
from envsync.errors import ExitCode
from envsync.gitops import github
from envsync.gitops.github import Action, GitHub, GitHubError, Settings

TOKEN = "ghs_fake0123456789abcdefTOKEN"
REPO = "octo/envs"


@dataclass
class FakeGitHub:
    """The few endpoints envsync uses, with GitHub's paging (Link headers) and auth check."""

    url: str = ""
    page_size: int = 2
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # by issue/PR number
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    faults: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)  # served first
    requests: list[tuple[str, str]] = field(default_factory=list)
    next_link_host: str | None = None  # serve a next link to this origin instead
    ids: Iterator[int] = field(default_factory=lambda: iter(range(1000, 10**6)))

    def issue(
        self, title: str, body: str, *, state: str = "open", labels: tuple[str, ...] = (), pr: bool = False
    ) -> int:
        number = len(self.issues) + 1
        self.issues[number] = {
            "number": number,
            "title": title,
            "body": body,
            "state": state,
            "labels": [{"name": n} for n in labels],
            "html_url": f"{self.url}/{REPO}/issues/{number}",
            **({"pull_request": {}} if pr else {}),
        }
        return number

    def comment(self, number: int, body: str) -> int:
        cid = next(self.ids)
        html = f"{self.url}/{REPO}/pull/{number}#issuecomment-{cid}"
        self.comments.setdefault(number, []).append({"id": cid, "body": body, "html_url": html})
        return cid

    def handle(self, method: str, target: str, headers: Any, body: Any) -> tuple[int, dict[str, str], Any]:
        self.requests.append((method, target))
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {}, {"message": f"Bad credentials: {headers.get('Authorization')}"}
        if self.faults:
            return self.faults.pop(0)
        parts = urlsplit(target)
        path, query = parts.path.removeprefix(f"/repos/{REPO}"), parse_qs(parts.query)
        match method, path.strip("/").split("/"):
            case "GET", ["issues", n, "comments"]:
                return self.page(parts.path, query, self.comments.get(int(n), []))
            case "POST", ["issues", n, "comments"]:
                cid = self.comment(int(n), body["body"])
                return 201, {}, self.comments[int(n)][-1] | {"id": cid}
            case "PATCH", ["issues", "comments", cid]:
                found = next(c for cs in self.comments.values() for c in cs if c["id"] == int(cid))
                found["body"] = body["body"]
                return 200, {}, found
            case "GET", ["issues"]:
                state, label = query.get("state", ["open"])[0], query.get("labels", [None])[0]
                shown = [
                    i
                    for i in self.issues.values()
                    if i["state"] == state and (label is None or label in {x["name"] for x in i["labels"]})
                ]
                return self.page(parts.path, query, shown)
            case "POST", ["issues"]:
                n = self.issue(body["title"], body["body"], labels=tuple(body.get("labels", ())))
                return 201, {}, self.issues[n]
            case "PATCH", ["issues", n]:
                self.issues[int(n)].update(body)
                return 200, {}, self.issues[int(n)]
        return 404, {}, {"message": "Not Found"}

    def page(
        self, path: str, query: dict[str, list[str]], items: list[Any]
    ) -> tuple[int, dict[str, str], Any]:
        size = min(int(query.get("per_page", ["30"])[0]), self.page_size)
        number = int(query.get("page", ["1"])[0])
        chunk = items[(number - 1) * size : number * size]
        headers = {}
        if number * size < len(items):
            rest = {k: v[0] for k, v in query.items() if k != "page"}
            link = "&".join(f"{k}={v}" for k, v in {**rest, "page": number + 1}.items())
            origin = self.next_link_host or self.url
            headers["Link"] = f'<{origin}{path}?{link}>; rel="next", <{origin}{path}?page=99>; rel="last"'
        return 200, headers, chunk


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, headers, doc = fake.handle(self.command, self.path, self.headers, body)
            data = json.dumps(doc).encode()
            self.send_response(status)
            for k, v in {"Content-Type": "application/json", **headers}.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _serve

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    state = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(fake: FakeGitHub) -> GitHub:
    return GitHub(Settings(repository=REPO, api_url=fake.url, token=TOKEN), backoff=0)


@pytest.fixture
def env(fake: FakeGitHub) -> dict[str, str]:
    return {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": fake.url}


PLAN = github.plan_marker("prod")
DRIFT = github.drift_marker("prod")


def test_comment_is_created_then_updated_in_place(fake: FakeGitHub, client: GitHub) -> None:
    first = client.upsert_comment(7, "## Plan\n1 to create", marker=PLAN)
    assert first.action is Action.CREATED and first.url and first.url.startswith(fake.url)
    again = client.upsert_comment(7, "## Plan\nno changes", marker=PLAN)
    assert again == (Action.UPDATED, first.url)
    assert [c["body"] for c in fake.comments[7]] == [f"{PLAN}\n## Plan\nno changes"]


def test_comment_found_on_a_later_page_among_others(fake: FakeGitHub, client: GitHub) -> None:
    for i in range(5):
        fake.comment(7, f"LGTM {i}")
    fake.comment(7, f"{github.plan_marker('dev')}\ndev plan")
    mine = fake.comment(7, f"{PLAN}\nold prod plan")
    action, _ = client.upsert_comment(7, "new prod plan", marker=PLAN)
    assert action is Action.UPDATED
    bodies = {c["id"]: c["body"] for c in fake.comments[7]}
    assert bodies[mine] == f"{PLAN}\nnew prod plan"
    assert sum("dev plan" in b for b in bodies.values()) == 1 and len(bodies) == 7
    pages = [t for m, t in fake.requests if m == "GET"]
    assert len(pages) == 4 and pages[-1].endswith("page=4")  # 7 comments, 2 a page


def test_issue_created_with_label_then_updated(fake: FakeGitHub, client: GitHub) -> None:
    fake.issue("unrelated", "no marker", labels=("envsync-drift",))
    fake.issue("a PR", DRIFT, pr=True)  # the issues listing includes pull requests
    fake.issue("closed earlier", DRIFT, state="closed", labels=("envsync-drift",))
    created = client.upsert_issue("Drift in prod", "2 versions edited", marker=DRIFT)
    assert created.action is Action.CREATED
    number = max(fake.issues)
    assert fake.issues[number]["labels"] == [{"name": "envsync-drift"}]
    assert fake.issues[number]["body"] == f"{DRIFT}\n2 versions edited"
    updated = client.upsert_issue("Drift in prod (3)", "3 versions edited", marker=DRIFT)
    assert updated == (Action.UPDATED, created.url)
    assert (fake.issues[number]["title"], len(fake.issues)) == ("Drift in prod (3)", 4)


def test_issue_closed_with_a_comment_when_drift_is_clean(fake: FakeGitHub, client: GitHub) -> None:
    assert client.upsert_issue("", "clean", marker=DRIFT, close=True) == (Action.NOTHING, None)
    assert [m for m, _ in fake.requests] == ["GET"]
    number = fake.issue("Drift in prod", f"{DRIFT}\nold", labels=("envsync-drift",))
    closed = client.upsert_issue("", "No drift.", marker=DRIFT, close=True)
    assert closed.action is Action.CLOSED
    assert fake.issues[number]["state"] == "closed" and fake.issues[number]["state_reason"] == "completed"
    assert fake.comments[number][0]["body"] == "No drift."


def test_secondary_rate_limit_is_retried_even_for_post(fake: FakeGitHub, client: GitHub) -> None:
    limited = {"message": "You have exceeded a secondary rate limit."}
    fake.faults = [(503, {}, {"message": "busy"}), (200, {}, []), (403, {"Retry-After": "0"}, limited)]
    assert client.upsert_comment(7, "plan", marker=PLAN).action is Action.CREATED
    assert [m for m, _ in fake.requests] == ["GET", "GET", "POST", "POST"]
    assert len(fake.comments[7]) == 1


def test_server_errors_are_not_retried_for_post(fake: FakeGitHub, client: GitHub) -> None:
    # A POST that failed late may have created its comment: a retry could post it twice.
    fake.faults = [(200, {}, []), (502, {}, {"message": "Bad Gateway"})]
    with pytest.raises(GitHubError, match=r"^POST /repos/octo/envs/issues/7/comments: 502 Bad Gateway$"):
        client.upsert_comment(7, "plan", marker=PLAN)
    assert [m for m, _ in fake.requests] == ["GET", "POST"]


def test_forbidden_without_retry_after_fails_at_once_with_a_hint(fake: FakeGitHub, client: GitHub) -> None:
    fake.faults = [(403, {}, {"message": "Resource not accessible by integration"})]
    with pytest.raises(GitHubError, match="not accessible by integration .*pull-requests: write"):
        client.upsert_comment(7, "plan", marker=PLAN)
    assert len(fake.requests) == 1


def test_token_never_in_errors_or_repr(fake: FakeGitHub) -> None:
    wrong = GitHub(Settings(repository=REPO, api_url=fake.url, token=TOKEN + "x"), backoff=0)
    with pytest.raises(GitHubError) as caught:
        wrong.upsert_comment(7, "plan", marker=PLAN)  # the fake echoes the header it got
    assert "401" in str(caught.value) and TOKEN not in str(caught.value)
    assert TOKEN not in repr(wrong) and TOKEN not in repr(wrong.settings)


def test_next_page_on_another_host_is_refused(fake: FakeGitHub, client: GitHub) -> None:
    fake.next_link_host = "http://127.0.0.2:9"
    for i in range(3):
        fake.comment(7, f"c{i}")
    with pytest.raises(GitHubError, match="refusing to follow a next page on another host"):
        client.upsert_comment(7, "plan", marker=PLAN)


def test_long_bodies_are_cut_below_githubs_limit_keeping_the_marker(client: GitHub, fake: FakeGitHub) -> None:
    client.upsert_comment(7, "x" * 100_000, marker=PLAN)
    body = fake.comments[7][0]["body"]
    assert len(body) <= github.MAX_BODY and body.startswith(PLAN) and "truncated" in body


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GITHUB_REPOSITORY": REPO}, "GITHUB_TOKEN is not set"),
        ({"GITHUB_TOKEN": TOKEN}, "GITHUB_REPOSITORY is not set: expected owner/name"),
        ({"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "envs"}, "GITHUB_REPOSITORY is 'envs'"),
        (
            {
                "GITHUB_TOKEN": TOKEN,
                "GITHUB_REPOSITORY": REPO,
                "GITHUB_API_URL": "http://ghe.example.com/api/v3",
            },
            "refusing plain http to ghe.example.com",
        ),
        ({"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": "ftp://x"}, "not an http"),
    ],
)
def test_settings_from_env_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(GitHubError, match=message):
        Settings.from_env(env)


def test_settings_defaults_and_enterprise() -> None:
    assert (
        Settings.from_env({"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO}).api_url
        == "https://api.github.com"
    )
    enterprise = {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": "https://ghe.corp/api/v3/",
    }
    assert Settings.from_env(enterprise).api_url == "https://ghe.corp/api/v3"
    assert Settings.from_env({**enterprise, "GITHUB_API_URL": "http://localhost:8080"}).api_url


def invoke(tmp_path: Path, env: dict[str, str], *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    clean = {"ENVSYNC_TARGET": None, **env}
    return CliRunner().invoke(cli, ["-C", str(tmp_path), "github", *args], env=clean, input=input)


def test_cli_comment_from_stdin_and_file(tmp_path: Path, fake: FakeGitHub, env: dict[str, str]) -> None:
    result = invoke(tmp_path, env, "comment", "--pr", "7", "--body-file", "-", input="## Plan\n")
    assert result.exit_code == ExitCode.OK, result.output
    assert result.output.startswith("created comment http://127.0.0.1:")
    (tmp_path / "plan.md").write_text("## Plan v2\n")
    result = invoke(tmp_path, env, "comment", "--pr", "7", "--body-file", str(tmp_path / "plan.md"))
    assert result.output.startswith("updated comment ")
    # Without --target the marker names the target `envsync plan` would use: the default, local.
    assert fake.comments[7][0]["body"] == f"{github.plan_marker('local')}\n## Plan v2\n"
    assert TOKEN not in result.output


def test_cli_issue_open_then_close(tmp_path: Path, fake: FakeGitHub, env: dict[str, str]) -> None:
    (tmp_path / "drift.md").write_text("1 version edited by hand\n")
    opened = invoke(tmp_path, env, "issue", "--title", "Drift", "--body-file", str(tmp_path / "drift.md"))
    assert opened.exit_code == ExitCode.OK and opened.output.startswith("created issue ")
    closed = invoke(tmp_path, env, "issue", "--close")
    assert closed.exit_code == ExitCode.OK and closed.output.startswith("closed issue ")
    again = invoke(tmp_path, env, "issue", "--close")
    assert again.output == "no open drift issue for target local: nothing to close\n"


def test_cli_errors(tmp_path: Path, env: dict[str, str]) -> None:
    usage = invoke(tmp_path, env, "issue", "--title", "Drift")
    assert usage.exit_code == ExitCode.ERROR and "--body-file are required" in usage.output
    unknown = invoke(tmp_path, env, "comment", "--pr", "7", "--body-file", "-", "-t", "nope", input="x")
    assert unknown.exit_code == ExitCode.ERROR and "unknown target 'nope'" in unknown.output
    no_token = invoke(
        tmp_path, {**env, "GITHUB_TOKEN": ""}, "comment", "--pr", "7", "--body-file", "-", input="x"
    )
    assert no_token.exit_code == ExitCode.ERROR and "error: GITHUB_TOKEN is not set" in no_token.output
