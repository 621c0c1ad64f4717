"""What went wrong before any answer came back, in words that say what to check.

requests wraps urllib3's exceptions (a `MaxRetryError` around a `NameResolutionError`, a
`NewConnectionError` around `ConnectionRefusedError`, ...); the cause is found by walking the
chain of wrapped exceptions rather than by reading their texts, which quote whole URLs.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests
from urllib3 import exceptions as u3

from envsync.http.body import BodyDeadline

_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH}
CA_FIX = "a proxy that intercepts TLS needs its CA certificate in REQUESTS_CA_BUNDLE"


def causes(error: BaseException) -> Iterator[BaseException]:
    """`error` and everything it wraps: args, `reason`, `__cause__`, `__context__` (no cycles)."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [a for a in current.args if isinstance(a, BaseException)]
        nested += [x for x in (getattr(current, "reason", None), current.__cause__, current.__context__) if x]
        todo += [x for x in nested if isinstance(x, BaseException)]


def is_connect_failure(error: BaseException) -> bool:
    """Whether no connection was made at all (DNS, refused, unreachable, connect timeout): the
    request never reached the host, and the host may not be reachable from here at all."""
    return isinstance(error, requests.ConnectTimeout) or any(
        isinstance(c, (u3.NewConnectionError, u3.NameResolutionError, u3.ConnectTimeoutError))
        for c in causes(error)
    )


def is_retriable(error: BaseException) -> bool:
    """Connection failures, resets and timeouts may pass; TLS and malformed requests will not."""
    if isinstance(error, (requests.exceptions.SSLError, requests.exceptions.InvalidURL)):
        return False
    passing = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
    return isinstance(error, passing)


def explain(error: BaseException, url: str, timeouts: tuple[float, float]) -> str:
    """One line: what failed reaching `url`'s host, and what to check."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    where = f"{host}:{parts.port}" if parts.port else host
    found = list(causes(error))
    if any(isinstance(c, (requests.exceptions.SSLError, u3.SSLError)) for c in found):
        return f"TLS verification of {host} failed ({_ssl_detail(found)}); {CA_FIX}"
    if any(isinstance(c, u3.NameResolutionError) for c in found):
        return f"cannot resolve {host} (DNS): check the endpoint's host name, and the network's DNS"
    if any(isinstance(c, ConnectionRefusedError) for c in found):
        return f"{where} refused the connection: check the endpoint (is the service listening there?)"
    if any(isinstance(c, (u3.ConnectTimeoutError, requests.ConnectTimeout)) for c in found):
        return (
            f"no connection to {where} within {timeouts[0]:g}s: a firewall, a private-only endpoint "
            "or no route from this network (check the endpoint, and that this network may reach it)"
        )
    unreachable = next((c for c in found if isinstance(c, OSError) and c.errno in _UNREACHABLE), None)
    if unreachable is not None:
        return f"{where}: {unreachable.strerror}: no route from this network (check the endpoint)"
    if isinstance(error, BodyDeadline):
        return f"the answer from {host} did not arrive in full within {error.seconds:g}s"
    if any(isinstance(c, (requests.ReadTimeout, u3.ReadTimeoutError)) for c in found):
        return f"{host} stopped answering (nothing for {timeouts[1]:g}s)"
    if any(isinstance(c, OSError) and getattr(c, "strerror", None) for c in found):
        oserror = next(c for c in found if isinstance(c, OSError) and getattr(c, "strerror", None))
        return f"{where}: {oserror.strerror}"
    return f"{where}: the connection failed ({type(found[-1]).__name__})"


def _ssl_detail(found: list[BaseException]) -> str:
    import ssl

    for cause in found:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return str(cause.verify_message or "certificate not trusted")
    for cause in found:
        if isinstance(cause, ssl.SSLError):
            return str(cause.reason or "handshake failed")
    return "handshake failed"
