"""GitHub's REST API, for what CI needs: the plan as a pull-request comment, drift as an issue.

Both are upserted by a hidden marker (`<!-- envsync:plan target=NAME -->`), so each run
replaces its previous report instead of adding another one. A comment or issue is envsync's
own only when the marker opens its body *and* the token's account wrote it: a reviewer who
quotes or copies the report is never edited. Settings come from the variables GitHub Actions
sets: GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL (Enterprise Server); ENVSYNC_GITHUB_AUTHOR
names the account when the token cannot tell (a GitHub App's `<slug>[bot]`).
"""

from __future__ import annotations

import enum
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import requests

from envsync import __version__
from envsync.gitops import bodies
from envsync.gitops.github_http import MAX_WAIT, GitHubError, checked, json_of, new_session, reason
from envsync.http.redact import install_log_redaction, one_line, redact
from envsync.http.session import is_loopback
from envsync.text import escape

__all__ = ["Action", "GitHub", "GitHubError", "Settings", "Upserted", "drift_marker", "plan_marker"]

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
DRIFT_LABEL = "envsync-drift"
ACTIONS_BOT = "github-actions[bot]"  # who GITHUB_TOKEN writes as
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_GENERIC = bodies.truncation_note("report")

Item = dict[str, Any]


class Action(str, enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    CLOSED = "closed"
    NOTHING = "nothing"  # close=True and no open issue: drift was already clean


class Upserted(NamedTuple):
    action: Action
    url: str | None  # the comment's or issue's html_url; None when nothing was done


def plan_marker(target: str) -> str:
    return f"<!-- envsync:plan target={escape.html(target)} -->"


def drift_marker(target: str) -> str:
    return f"<!-- envsync:drift target={escape.html(target)} -->"


@dataclass(frozen=True)
class Settings:
    repository: str  # owner/name
    api_url: str = DEFAULT_API_URL
    token: str = field(default="", repr=False)
    author: str | None = None  # the token's account, when GitHub cannot be asked (an App)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        token, repository = env.get("GITHUB_TOKEN", ""), env.get("GITHUB_REPOSITORY", "")
        if not token:
            raise GitHubError(
                "GITHUB_TOKEN is not set: in a workflow, pass env: GITHUB_TOKEN: ${{ github.token }}"
            )
        if not _REPOSITORY.match(repository):
            shown = f"'{repository}'" if repository else "not set"
            raise GitHubError(f"GITHUB_REPOSITORY is {shown}: expected owner/name")
        return cls(
            repository=repository,
            api_url=check_api_url(env.get("GITHUB_API_URL") or DEFAULT_API_URL),
            token=token,
            author=env.get("ENVSYNC_GITHUB_AUTHOR") or None,
        )


def check_api_url(url: str) -> str:
    """`url` without a trailing slash; plain http only to a loopback address (tests)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise GitHubError(f"GITHUB_API_URL '{url}' is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback(url):
        raise GitHubError(f"refusing plain http to {parts.hostname}: GITHUB_API_URL must use https")
    return url.rstrip("/")


class GitHub:
    """A client for one repository. Never prints, logs or repeats its token."""

    def __init__(
        self,
        settings: Settings,
        *,
        retries: int = 5,
        backoff: float = 1.0,
        timeout: tuple[float, float] = (10.0, 30.0),
        max_wait: float = MAX_WAIT,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.settings, self.timeout, self.max_wait = settings, timeout, max_wait
        self.retries, self.backoff, self._clock, self._sleep = retries, backoff, clock, sleep
        self._session = new_session(retries, backoff, max_wait)
        # Proxies are the one thing from the environment worth keeping (self-hosted runners).
        self._session.proxies.update(requests.utils.get_environ_proxies(settings.api_url))
        self._session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {settings.token}",
                "User-Agent": f"envsync/{__version__}",
                "X-GitHub-Api-Version": API_VERSION,
            }
        )
        install_log_redaction()

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> GitHub:
        return cls(Settings.from_env(env))

    def __repr__(self) -> str:
        return f"GitHub({self.settings.repository!r}, api_url={self.settings.api_url!r})"

    @cached_property
    def identity(self) -> str:
        """The login the token writes as: ENVSYNC_GITHUB_AUTHOR, else GET /user (a personal
        token), else GraphQL's viewer (an installation token: GITHUB_TOKEN or an App's),
        else github-actions[bot], which is who GITHUB_TOKEN writes as."""
        if self.settings.author:
            return self.settings.author
        try:
            return str(checked(self._call("GET", "/user"), "GET /user", required=("login",))["login"])
        except GitHubError as e:
            if e.status != 403:  # "Resource not accessible by integration": not a user's token
                raise
        return self._viewer() or ACTIONS_BOT

    def upsert_comment(self, pr: int, body: str, *, marker: str, note: bodies.Note = _GENERIC) -> Upserted:
        """Replace envsync's comment on pull request `pr` that carries `marker`, or add one."""
        repo = f"/repos/{self.settings.repository}"
        listing = f"{repo}/issues/{pr}/comments"

        def find() -> Item | None:
            return next((c for c in self._pages(listing) if self._mine(c, marker)), None)

        return self._upsert(
            find=find,
            edit=lambda found: f"{repo}/issues/comments/{found['id']}",
            create=listing,
            fields={"body": bodies.with_marker(body, marker, note)},
            found=find(),
        )

    def upsert_issue(
        self, title: str, body: str, *, marker: str, close: bool = False, note: bodies.Note = _GENERIC
    ) -> Upserted:
        """Update envsync's open issue that carries `marker` (label envsync-drift), or open one.

        With `close`, close that issue instead, with `body` as a last comment (when not empty);
        without an open issue there is nothing to do.
        """
        repo = f"/repos/{self.settings.repository}"
        found = self._open_issue(marker)
        if close:
            if found is None:
                return Upserted(Action.NOTHING, None)
            if body.strip():
                self._last_comment(found["number"], body, note)
            closed = self._call(
                "PATCH", f"{repo}/issues/{found['number']}", {"state": "closed", "state_reason": "completed"}
            )
            return Upserted(Action.CLOSED, closed.get("html_url"))
        return self._upsert(
            find=lambda: self._open_issue(marker),
            edit=lambda issue: f"{repo}/issues/{issue['number']}",
            create=f"{repo}/issues",
            fields={"title": title, "body": bodies.with_marker(body, marker, note)},
            extra={"labels": [DRIFT_LABEL]},
            found=found,
        )

    def _upsert(
        self,
        *,
        find: Callable[[], Item | None],
        edit: Callable[[Item], str],
        create: str,
        fields: Mapping[str, Any],
        extra: Mapping[str, Any] | None = None,
        found: Item | None,
    ) -> Upserted:
        """PATCH `found`, else POST. A POST that may have failed late is followed by a fresh
        `find`, since it may have created the item after all, before it is sent again."""
        posted = False
        for attempt in range(self.retries + 1):
            if found is not None:
                done = posted and all(found.get(k) == v for k, v in fields.items())
                doc = found if done else self._call("PATCH", edit(found), fields)
                return Upserted(Action.CREATED if posted else Action.UPDATED, doc.get("html_url"))
            try:
                created = self._call("POST", create, {**fields, **(extra or {})})
                return Upserted(Action.CREATED, created.get("html_url"))
            except GitHubError as e:
                if not e.transient or attempt == self.retries:
                    raise
            posted = True
            self._sleep(self.backoff * 2**attempt)
            found = find()
        raise AssertionError("unreachable")  # pragma: no cover

    def _last_comment(self, number: int, body: str, note: bodies.Note) -> None:
        # A nonce makes this very comment recognisable when a failed POST is retried.
        tag = f"<!-- envsync:closing id={uuid.uuid4().hex} -->"
        listing = f"/repos/{self.settings.repository}/issues/{number}/comments"
        self._upsert(
            find=lambda: next((c for c in self._pages(listing) if self._mine(c, tag)), None),
            edit=lambda found: f"/repos/{self.settings.repository}/issues/comments/{found['id']}",
            create=listing,
            fields={"body": bodies.with_marker(body, tag, note)},
            found=None,  # a fresh nonce: nothing carries it yet
        )

    def _mine(self, item: Item, marker: str) -> bool:
        if not (item.get("body") or "").startswith(marker):
            return False  # a quote, or the marker mentioned: someone else's text
        login = str((item.get("user") or {}).get("login") or "")
        return login.lower() == self.identity.lower()

    def _open_issue(self, marker: str) -> Item | None:
        # The label narrows the listing to this tool's issues; the marker picks the target.
        params = {"state": "open", "labels": DRIFT_LABEL}
        for issue in self._pages(f"/repos/{self.settings.repository}/issues", params):
            if "pull_request" not in issue and self._mine(issue, marker):
                return issue
        return None

    def _viewer(self) -> str | None:
        api = self.settings.api_url
        url = api[: -len("/v3")] + "/graphql" if api.endswith("/api/v3") else api + "/graphql"
        try:
            doc = json_of(self._send("POST", url, json={"query": "query { viewer { login } }"}))
            return str(doc["data"]["viewer"]["login"]) or None
        except (GitHubError, ValueError, KeyError, TypeError):
            return None

    def _pages(self, path: str, params: Mapping[str, str] | None = None) -> Iterator[Item]:
        """Every item of a listing, following `Link: <...>; rel="next"`."""
        url: str | None = self.settings.api_url + path
        query: Mapping[str, str] | None = {"per_page": "100", **(params or {})}
        while url:
            response = self._send("GET", url, params=query)
            items = json_of(response)
            if not isinstance(items, list):
                raise GitHubError(f"GET {path}: expected a JSON list")
            key = ("number",) if path.endswith("/issues") else ("id",)  # what edits address it by
            yield from (checked(item, f"GET {path}", required=key) for item in items)
            url, query = response.links.get("next", {}).get("url"), None  # the link carries the query
            if url and not self._same_origin(url):
                # The token goes with every request: never to a host the API did not name.
                raise GitHubError(f"GET {path}: refusing to follow a next page on another host")

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Item:
        return checked(
            json_of(self._send(method, self.settings.api_url + path, json=body)), f"{method} {path}"
        )

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        shown = f"{method} {urlsplit(url).path}"
        try:
            response = self._session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as e:
            raise GitHubError(self._clean(f"{shown}: {type(e).__name__}: {e}"), transient=True) from None
        if response.status_code >= 400:
            why = reason(response, now=self._clock(), max_wait=self.max_wait)
            raise GitHubError(
                self._clean(f"{shown}: {response.status_code} {why}"),
                status=response.status_code,
                transient=response.status_code >= 500,
            )
        return response

    def _same_origin(self, url: str) -> bool:
        a, b = urlsplit(url), urlsplit(self.settings.api_url)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)

    def _clean(self, text: str) -> str:
        return one_line(redact(text, (self.settings.token,)))
