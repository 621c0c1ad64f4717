"""A fake GitHub REST API served over real HTTP on 127.0.0.1: the endpoints envsync uses, with
GitHub's paging (Link headers), its auth check, who wrote what, and the failures a CI job meets.

Tokens stand for accounts as on GitHub: TOKEN is a workflow's GITHUB_TOKEN (an installation
token: GET /user answers 403, GraphQL's viewer is github-actions[bot]), PAT a person's token
(GET /user answers octocat), APP_TOKEN a GitHub App's installation token (viewer envsync-app[bot]).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "ghs_fake0123456789abcdefTOKEN"
PAT = "ghp_fake0123456789abcdefPERSONAL"
APP_TOKEN = "ghs_fake0123456789abcdefAPPTOKEN"
REPO = "octo/envs"
BOT = "github-actions[bot]"
ACCOUNTS = {TOKEN: BOT, PAT: "octocat", APP_TOKEN: "envsync-app[bot]"}
INSTALLATION = {TOKEN, APP_TOKEN}  # tokens GET /user refuses

Reply = tuple[int, dict[str, str], Any]


@dataclass
class FakeGitHub:
    url: str = ""
    page_size: int = 2
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # by issue/PR number
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    faults: list[Reply] = field(default_factory=list)  # served first, whatever the request
    # Served to the next requests of one method, before they are processed.
    method_faults: dict[str, list[Reply]] = field(default_factory=dict)
    # The next N requests of a method are processed, then answered with this status instead:
    # a response lost after the work was done.
    lost: dict[str, list[int]] = field(default_factory=dict)
    graphql: bool = True  # False: the GraphQL endpoint answers 404 (an old Enterprise Server)
    requests: list[tuple[str, str]] = field(default_factory=list)
    next_link_host: str | None = None  # serve a next link to this origin instead
    ids: Iterator[int] = field(default_factory=lambda: iter(range(1000, 10**6)))

    def issue(
        self,
        title: str,
        body: str,
        *,
        state: str = "open",
        labels: tuple[str, ...] = (),
        pr: bool = False,
        author: str = BOT,
    ) -> int:
        number = len(self.issues) + 1
        self.issues[number] = {
            "number": number,
            "title": title,
            "body": body,
            "state": state,
            "labels": [{"name": n} for n in labels],
            "html_url": f"{self.url}/{REPO}/issues/{number}",
            "user": {"login": author, "type": "Bot" if author.endswith("[bot]") else "User"},
            **({"pull_request": {}} if pr else {}),
        }
        return number

    def comment(self, number: int, body: str, *, author: str = BOT) -> int:
        cid = next(self.ids)
        html = f"{self.url}/{REPO}/pull/{number}#issuecomment-{cid}"
        user = {"login": author, "type": "Bot" if author.endswith("[bot]") else "User"}
        self.comments.setdefault(number, []).append({"id": cid, "body": body, "html_url": html, "user": user})
        return cid

    def bodies(self, number: int) -> list[str]:
        return [c["body"] for c in self.comments.get(number, [])]

    def handle(self, method: str, target: str, headers: Any, body: Any) -> Reply:
        self.requests.append((method, target))
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        if token not in ACCOUNTS:
            return 401, {}, {"message": f"Bad credentials: {headers.get('Authorization')}"}
        if self.faults:
            return self.faults.pop(0)
        if self.method_faults.get(method):
            return self.method_faults[method].pop(0)
        reply = self.route(method, target, ACCOUNTS[token], token, body)
        if self.lost.get(method):
            return self.lost[method].pop(0), {}, {"message": "Server Error"}
        return reply

    def route(self, method: str, target: str, who: str, token: str, body: Any) -> Reply:
        parts = urlsplit(target)
        path, query = parts.path.removeprefix(f"/repos/{REPO}"), parse_qs(parts.query)
        match method, path.strip("/").split("/"):
            case "GET", ["user"]:
                if token in INSTALLATION:
                    return 403, {}, {"message": "Resource not accessible by integration"}
                return 200, {}, {"login": who, "type": "User"}
            case "POST", ["graphql"] if self.graphql:
                return 200, {}, {"data": {"viewer": {"login": who}}}
            case "GET", ["issues", n, "comments"]:
                return self.page(parts.path, query, self.comments.get(int(n), []))
            case "POST", ["issues", n, "comments"]:
                cid = self.comment(int(n), body["body"], author=who)
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
                labels = tuple(body.get("labels", ()))
                n = self.issue(body["title"], body["body"], labels=labels, author=who)
                return 201, {}, self.issues[n]
            case "PATCH", ["issues", n]:
                self.issues[int(n)].update(body)
                return 200, {}, self.issues[int(n)]
        return 404, {}, {"message": "Not Found"}

    def page(self, path: str, query: dict[str, list[str]], items: list[Any]) -> Reply:
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


@contextmanager
def serve() -> Iterator[FakeGitHub]:
    state = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
