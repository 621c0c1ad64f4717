"""The HTTP side of the GitHub client: retries, the wait cap, and errors people can act on."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import requests
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from envsync.errors import EnvsyncError, WorkspaceError
from envsync.http.caps import CappedAdapter, load_json, request_label

MAX_WAIT = 60.0  # seconds: the longest Retry-After envsync sits out before it gives up


class GitHubError(EnvsyncError):
    """A GitHub setting is missing or wrong, or the API refused a request."""

    def __init__(self, message: str, *, status: int | None = None, transient: bool = False):
        super().__init__(message)
        self.status = status
        self.transient = transient  # the request may succeed if sent again (5xx, lost connection)


class CappedRetry(Retry):
    """urllib3's Retry, plus GitHub's secondary rate limits and a cap on waiting.

    GitHub answers secondary limits with 403 or 429 and Retry-After. The request was not
    processed, so it is retried whatever the method; a 403 without Retry-After is a permission
    problem, which no retry fixes. 5xx are retried for GET and PATCH only: a POST that failed
    late may have created its comment, so the client lists again before posting again.
    A Retry-After over `max_wait` (GitHub has sent 3600) is not sat out: the response comes
    back and becomes an error saying when to run again. So is an exhausted primary limit.
    """

    max_wait: float = MAX_WAIT

    def new(self, **kw: Any) -> CappedRetry:
        fresh: CappedRetry = super().new(**kw)
        fresh.max_wait = self.max_wait
        return fresh

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if has_retry_after and status_code in (403, 429) and self.respect_retry_after_header:
            return bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, *args: Any, **kwargs: Any) -> CappedRetry:
        response = kwargs.get("response")
        if response is not None and (_exhausted(response.headers) or self._too_long(response.headers)):
            # Raised inside urlopen with raise_on_status off: the response is handed back as is.
            pool: Any = kwargs.get("_pool")
            raise MaxRetryError(pool, kwargs.get("url") or "", ResponseError("not retried"))
        return super().increment(*args, **kwargs)

    def _too_long(self, headers: Any) -> bool:
        wait = retry_after(headers)
        return wait is not None and wait > self.max_wait


def retry_after(headers: Any) -> float | None:
    """Retry-After in seconds (it may also be an HTTP date); None when absent or unreadable."""
    value = str(headers.get("Retry-After") or "").strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, moment - time.time())


def _exhausted(headers: Any) -> bool:
    # The primary limit: nothing is left until x-ratelimit-reset, often most of an hour away.
    return headers.get("x-ratelimit-remaining") == "0" and headers.get("Retry-After") is None


def new_session(retries: int, backoff: float, max_wait: float) -> requests.Session:
    retry = CappedRetry(
        total=retries,
        backoff_factor=backoff,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "PATCH"}),
        respect_retry_after_header=True,
        raise_on_status=False,  # the last response becomes a GitHubError with GitHub's message
    )
    retry.max_wait = max_wait
    session = requests.Session()
    adapter = CappedAdapter(max_retries=retry, error=GitHubError)  # a cut-off answer is GitHub's error
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.trust_env = False  # a ~/.netrc entry would replace our Authorization header
    session.verify = True
    return session


def reason(response: requests.Response, *, now: float, max_wait: float = MAX_WAIT) -> str:
    """GitHub's message for a refused request, with what to do about it."""
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
    wait = retry_after(response.headers)
    if wait is not None and wait > max_wait:
        hint = (
            f"GitHub asked to wait {wait:,.0f} s before retrying (Retry-After), longer than envsync "
            f"waits ({max_wait:,.0f} s): run the job again after {when(now + wait, now)}"
        )
    elif response.headers.get("x-ratelimit-remaining") == "0":
        reset = response.headers.get("x-ratelimit-reset", "")
        at = when(float(reset), now) if reset.isdigit() else "an unknown time"
        hint = f"API rate limit exhausted; it resets at {at}"
    return f"{text} ({hint})" if hint else text


def when(moment: float, now: float) -> str:
    """`2026-05-01 14:03:07 UTC (in 57 min)`: a time a person can act on, not epoch seconds."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))
    seconds = max(0, round(moment - now))
    if seconds < 90:
        return f"{stamp} (in {seconds} s)"
    if seconds < 90 * 60:
        return f"{stamp} (in {round(seconds / 60)} min)"
    return f"{stamp} (in {seconds / 3600:.1f} h)"


def json_of(response: requests.Response) -> Any:
    """An answer's JSON, bounded in depth (its bytes are by the session's `CappedAdapter`)."""
    try:
        return load_json(
            response.content, request_label(str(response.request.method), str(response.request.url))
        )
    except WorkspaceError as e:
        raise GitHubError(str(e)) from None


# The fields envsync reads from comments, issues and users (GitHub's REST API), and their types.
_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (int,),
    "number": (int,),
    "body": (str,),
    "html_url": (str,),
    "login": (str,),
    "user": (dict,),
}


def checked(item: Any, op: str, *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """`item` if it is an object whose fields envsync reads have GitHub's types (`user.login`
    included; null allowed unless `required`); otherwise a GitHubError naming field and request."""
    if not isinstance(item, dict):
        raise GitHubError(f"{op}: expected a JSON object, got {type(item).__name__}")
    user = item.get("user")
    for where, doc in (("", item), ("user.", user if isinstance(user, dict) else {})):
        for key, kinds in _FIELDS.items():
            value = doc.get(key)
            missing = value is None and f"{where}{key}" in required
            if missing or (value is not None and (isinstance(value, bool) or not isinstance(value, kinds))):
                shown = "missing" if value is None else f"{type(value).__name__}"
                raise GitHubError(
                    f"{op}: the answer's '{where}{key}' is {shown}, expected {kinds[0].__name__}"
                )
    return item
