"""GitHub's REST API, for what CI needs: the plan as a pull-request comment, drift as an issue.

Both are upserted by a hidden marker (`<!-- envsync:plan target=NAME -->`), so each run
replaces its previous report instead of adding another one. Settings come from the variables
GitHub Actions sets: GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL (Enterprise Server).
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from envsync import __version__
from envsync.errors import EnvsyncError
from envsync.http.redact import install_log_redaction, one_line, redact
from envsync.http.session import is_loopback

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
DRIFT_LABEL = "envsync-drift"
MAX_BODY = 65536  # GitHub refuses longer comment and issue bodies (422)
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class GitHubError(EnvsyncError):
    """A GitHub setting is missing or wrong, or the API refused a request."""


class Action(str, enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    CLOSED = "closed"
    NOTHING = "nothing"  # close=True and no open issue: drift was already clean


class Upserted(NamedTuple):
    action: Action
    url: str | None  # the comment's or issue's html_url; None when nothing was done


def plan_marker(target: str) -> str:
    return f"<!-- envsync:plan target={target} -->"


def drift_marker(target: str) -> str:
    return f"<!-- envsync:drift target={target} -->"


@dataclass(frozen=True)
class Settings:
    repository: str  # owner/name
    api_url: str = DEFAULT_API_URL
    token: str = field(default="", repr=False)

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
        )


def check_api_url(url: str) -> str:
    """`url` without a trailing slash; plain http only to a loopback address (tests)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise GitHubError(f"GITHUB_API_URL '{url}' is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback(url):
        raise GitHubError(f"refusing plain http to {parts.hostname}: GITHUB_API_URL must use https")
    return url.rstrip("/")


class _Retry(Retry):
    """urllib3's Retry, plus GitHub's secondary rate limits.

    GitHub answers those with 403 or 429 and Retry-After. The request was not processed, so it
    is retried whatever the method; a 403 without Retry-After is a permission problem, which no
    retry fixes. 5xx are retried for GET and PATCH only: a POST that failed late may have
    created its comment, and a second one would be a duplicate.
    """

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if has_retry_after and status_code in (403, 429) and self.respect_retry_after_header:
            return bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)


def _session(retries: int, backoff: float) -> requests.Session:
    retry = _Retry(
        total=retries,
        backoff_factor=backoff,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "PATCH"}),
        respect_retry_after_header=True,
        raise_on_status=False,  # the last response becomes a GitHubError with GitHub's message
    )
    session = requests.Session()
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.trust_env = False  # a ~/.netrc entry would replace our Authorization header
    session.verify = True
    return session


class GitHub:
    """A client for one repository. Never prints, logs or repeats its token."""

    def __init__(
        self,
        settings: Settings,
        *,
        retries: int = 5,
        backoff: float = 1.0,
        timeout: tuple[float, float] = (10.0, 30.0),
    ):
        self.settings, self.timeout = settings, timeout
        self._session = _session(retries, backoff)
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

    def upsert_comment(self, pr: int, body: str, *, marker: str) -> Upserted:
        """Replace the comment on pull request `pr` that carries `marker`, or add one."""
        text = _with_marker(body, marker)
        repo = f"/repos/{self.settings.repository}"
        found = next(
            (c for c in self._pages(f"{repo}/issues/{pr}/comments") if marker in (c.get("body") or "")), None
        )
        if found is not None:
            updated = self._call("PATCH", f"{repo}/issues/comments/{found['id']}", {"body": text})
            return Upserted(Action.UPDATED, updated.get("html_url"))
        created = self._call("POST", f"{repo}/issues/{pr}/comments", {"body": text})
        return Upserted(Action.CREATED, created.get("html_url"))

    def upsert_issue(self, title: str, body: str, *, marker: str, close: bool = False) -> Upserted:
        """Update the open issue that carries `marker` (labelled envsync-drift), or open one.

        With `close`, close that issue instead, with `body` as a last comment (when not empty);
        without an open issue there is nothing to do.
        """
        repo = f"/repos/{self.settings.repository}"
        found = self._open_issue(marker)
        if close:
            if found is None:
                return Upserted(Action.NOTHING, None)
            if body.strip():
                self._call("POST", f"{repo}/issues/{found['number']}/comments", {"body": _truncate(body)})
            closed = self._call(
                "PATCH", f"{repo}/issues/{found['number']}", {"state": "closed", "state_reason": "completed"}
            )
            return Upserted(Action.CLOSED, closed.get("html_url"))
        fields = {"title": title, "body": _with_marker(body, marker)}
        if found is not None:
            updated = self._call("PATCH", f"{repo}/issues/{found['number']}", fields)
            return Upserted(Action.UPDATED, updated.get("html_url"))
        created = self._call("POST", f"{repo}/issues", {**fields, "labels": [DRIFT_LABEL]})
        return Upserted(Action.CREATED, created.get("html_url"))

    def _open_issue(self, marker: str) -> dict[str, Any] | None:
        # The label narrows the listing to this tool's issues; the marker picks the target.
        params = {"state": "open", "labels": DRIFT_LABEL}
        for issue in self._pages(f"/repos/{self.settings.repository}/issues", params):
            if "pull_request" not in issue and marker in (issue.get("body") or ""):
                return issue
        return None

    def _pages(self, path: str, params: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a listing, following `Link: <...>; rel="next"`."""
        url: str | None = self.settings.api_url + path
        query: Mapping[str, str] | None = {"per_page": "100", **(params or {})}
        while url:
            response = self._send("GET", url, params=query)
            items = response.json()
            if not isinstance(items, list):
                raise GitHubError(f"GET {path}: expected a JSON list")
            yield from items
            url, query = response.links.get("next", {}).get("url"), None  # the link carries the query
            if url and not self._same_origin(url):
                # The token goes with every request: never to a host the API did not name.
                raise GitHubError(f"GET {path}: refusing to follow a next page on another host")

    def _call(self, method: str, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        doc = self._send(method, self.settings.api_url + path, json=body).json()
        if not isinstance(doc, dict):
            raise GitHubError(f"{method} {path}: expected a JSON object")
        return doc

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        shown = f"{method} {urlsplit(url).path}"
        try:
            response = self._session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as e:
            raise GitHubError(self._clean(f"{shown}: {type(e).__name__}: {e}")) from None
        if response.status_code >= 400:
            raise GitHubError(self._clean(f"{shown}: {response.status_code} {_reason(response)}"))
        return response

    def _same_origin(self, url: str) -> bool:
        a, b = urlsplit(url), urlsplit(self.settings.api_url)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)

    def _clean(self, text: str) -> str:
        return one_line(redact(text, (self.settings.token,)))


def _reason(response: requests.Response) -> str:
    try:
        doc = response.json()
    except ValueError:
        doc = {}
    message = doc.get("message") if isinstance(doc, dict) else None
    text = str(message or response.reason or "request failed")
    hint = {
        401: "GITHUB_TOKEN was rejected",
        403: "the token lacks a permission: the workflow needs pull-requests: write or issues: write",
        404: "not found, or not visible to the token: check GITHUB_REPOSITORY and the PR number",
    }.get(response.status_code)
    if response.headers.get("x-ratelimit-remaining") == "0":
        hint = f"rate limit exhausted until {response.headers.get('x-ratelimit-reset', '?')} (epoch seconds)"
    return f"{text} ({hint})" if hint else text


def _with_marker(body: str, marker: str) -> str:
    # First, so that cutting a long body cannot cut the marker off.
    return _truncate(body if body.startswith(marker) else f"{marker}\n{body}")


def _truncate(body: str) -> str:
    if len(body) <= MAX_BODY:
        return body
    note = "\n\n… truncated: the full report is in the workflow run's log and artifacts.\n"
    return body[: MAX_BODY - len(note)] + note
