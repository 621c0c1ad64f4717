"""What every HTTP client of envsync shares: credentials, transport options, endpoints.

Retries are `retrying.Retrier`'s (visible, bounded by deadlines), not urllib3's: a session's
adapter makes one attempt per request. Sessions never read .netrc or proxy credentials from the
environment and always verify TLS.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import requests

from envsync.errors import WorkspaceError
from envsync.http.caps import CappedAdapter
from envsync.http.clouds import is_loopback as is_loopback  # re-exported: callers import it from here
from envsync.http.redact import redact
from envsync.http.throttle import Limits

if TYPE_CHECKING:
    from envsync.http.retrying import RetryNotice


class AccessTokenLike(Protocol):
    @property
    def token(self) -> str: ...

    @property
    def expires_on(self) -> int: ...


class TokenCredential(Protocol):
    """What azure-identity credentials provide (`DefaultAzureCredential` included)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessTokenLike: ...


@dataclass(frozen=True)
class StaticToken:
    token: str
    expires_on: int

    def __repr__(self) -> str:
        return f"StaticToken(token='<redacted>', expires_on={self.expires_on})"


class StaticTokenCredential:
    """A fixed bearer token (ENVSYNC_ARM_TOKEN, or any token for the local emulator)."""

    def __init__(self, token: str):
        if not token:
            raise WorkspaceError("an empty ARM token was given")
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> StaticToken:
        return StaticToken(self._token, int(time.time()) + 3600)

    def __repr__(self) -> str:
        return "StaticTokenCredential(token='<redacted>')"


@dataclass(frozen=True)
class HttpOptions:
    """Transport knobs. The defaults suit ARM; tests shrink the backoff.

    Every request envsync makes is idempotent (PUTs replace a whole body, listSecrets reads),
    so a lost response is retried whatever the method."""

    concurrency: int = 8
    retries: int = 6
    backoff: float = 0.5  # seconds; doubles per attempt
    backoff_max: float = 30.0
    jitter: float = 0.5  # up to this many seconds added to each backoff
    retry_after_max: float = 120.0
    connect_timeout: float = 4.0  # ARM and storage accept a connection in well under a second
    read_timeout: float = 60.0  # the longest wait for the next bytes of an answer
    attempt_deadline: float = 120.0  # one attempt, its whole body read included
    request_deadline: float = 300.0  # one request, all its attempts and waits included
    # A host that has never accepted a connection (a wrong endpoint, DNS, a firewall) is retried
    # this often, not `retries` times: an unreachable endpoint fails in seconds.
    first_contact_retries: int = 1
    on_retry: Callable[[RetryNotice], None] | None = field(default=None, compare=False, repr=False)
    # Client-side pacing: before each ARM request take a token from a bucket mirroring ARM's
    # (sizes and refill rates below), synced down to the x-ms-ratelimit-remaining-* headers;
    # with none left, wait for the refill instead of sending into a 429. Blob requests are not
    # ARM's and are never paced. The emulator without --arm-throttle reports ARM's hourly
    # budget (thousands), which the pacer adopts as its bucket size: no waiting there.
    pacing: bool = True
    read_bucket: int = 250
    read_refill: float = 25.0  # tokens a second
    write_bucket: int = 200  # writes; deletes have a bucket of their own, the same size
    write_refill: float = 10.0

    def limits(self) -> Limits:
        return Limits(self.read_bucket, self.read_refill, self.write_bucket, self.write_refill)


def check_endpoint(url: str) -> str:
    """`url` without a trailing slash; refuses plain http except on a loopback address."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WorkspaceError(f"invalid ARM endpoint '{redact(url)}': expected https://host")
    if "@" in parts.netloc:  # ARM takes bearer tokens only: a password here would be sent in clear text
        raise WorkspaceError(f"invalid ARM endpoint '{redact(url)}': credentials do not belong in the URL")
    if parts.scheme == "http" and not is_loopback(url):
        raise WorkspaceError(
            f"refusing plain http to {parts.hostname}: use https (http is allowed only for a "
            "loopback endpoint such as the local emulator on 127.0.0.1)"
        )
    return url.rstrip("/")


def ca_bundle() -> str | bool:
    """What TLS verification trusts: the CA bundle REQUESTS_CA_BUNDLE (else CURL_CA_BUNDLE) names,
    as requests and azure-core read it, else the default store. Never False: verification is
    never turned off (a test CA, like `envsync emulator --tls` prints, is trusted by naming it)."""
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        path = os.environ.get(variable)
        if path:
            if not os.path.exists(path):
                raise WorkspaceError(f"{variable} names {path}, which does not exist")
            return path
    return True


def new_session(options: HttpOptions) -> requests.Session:
    session = requests.Session()
    adapter = CappedAdapter(pool_connections=4, pool_maxsize=max(options.concurrency, 10), max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    # No .netrc credentials or proxy auth picked up behind our back; so the CA bundle requests
    # would read from the environment is read here instead.
    session.trust_env = False
    session.verify = ca_bundle()
    return session
