"""Bounds on what an answer may make envsync hold: bytes read per answer, JSON nesting depth.

Every HTTP client of envsync (ARM, a registry's data plane, blob storage through
azure-storage-blob, the GitHub API) mounts `CappedAdapter`, so no body is read past its cap
however it is read (requests' `.content`, `iter_content`, a `read1` loop, azure-core's stream
download). An answer to a ranged request (`Range`/`x-ms-range: bytes=a-b`, what a blob
download sends) may hold no more than the range, unless it is an error; any other no more than
`max_bytes`. A `Content-Length` over the cap is refused before a byte of the body is read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from envsync.errors import WorkspaceError

ANSWER_MAX_BYTES = 32 << 20  # an ARM page of 100 versions with large conda files is ~1 MB
JSON_MAX_DEPTH = 64  # ARM resources nest about 6 deep; GitHub's GraphQL answers about 8
_RANGE = re.compile(r"bytes=(\d+)-(\d+)\Z")


class AnswerTooLarge(WorkspaceError):
    """An answer went past its byte cap; it was not read further. The message is
    `METHOD /path: reason`; a client that names its requests otherwise re-labels `reason`."""

    @property
    def reason(self) -> str:
        return str(self).partition(": ")[2]


class CappedAdapter(HTTPAdapter):
    """requests' adapter, with every answer's body counted and cut off at its cap."""

    def __init__(
        self,
        *args: Any,
        max_bytes: int = ANSWER_MAX_BYTES,
        blocksize: int | None = None,
        error: Callable[[str], Exception] = AnswerTooLarge,
        **kwargs: Any,
    ):
        self.max_bytes, self.error = max_bytes, error
        self._pool_options = {} if blocksize is None else {"blocksize": blocksize}
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **{**kwargs, **self._pool_options})

    def build_response(self, req: requests.PreparedRequest, resp: Any) -> requests.Response:
        response = super().build_response(req, resp)
        # An error's body (a throttled or failed range read) is no part of the range asked for.
        ranged = response.status_code < 300
        cap, why = answer_cap(req.headers if ranged else {}, self.max_bytes)
        label = request_label(str(req.method), str(req.url))
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            response.close()
            raise self.error(f"{label}: the answer declares {int(declared):,} bytes, more than {why}")
        response.raw = CappedBody(response.raw, cap, self.error(f"{label}: the answer went past {why}"))
        return response


def answer_cap(headers: Any, default: int) -> tuple[int, str]:
    """The most bytes an answer to a request with `headers` may hold, and why, for messages."""
    for name in ("x-ms-range", "Range"):
        found = _RANGE.match(str(headers.get(name) or "").strip())
        if found:
            length = int(found[2]) - int(found[1]) + 1
            return length, f"the {length:,} bytes asked for"
    return default, f"envsync's cap of {default >> 20} MiB per answer"


def request_label(method: str, url: str) -> str:
    """`METHOD /path`, as messages name a request: no host, no query (it may carry a SAS)."""
    return f"{method} {urlsplit(url).path or '/'}"


class CappedBody:
    """A urllib3 response whose reads count the bytes they return (decoded, so a compressed
    bomb is bounded too) and raise `error` past `cap`. Everything else is the wrapped
    response's."""

    def __init__(self, raw: Any, cap: int, error: Exception):
        self._raw, self._left, self._error = raw, cap, error

    def _count(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            self._raw.close()
            raise self._error
        return data

    def read(self, amt: int | None = None, *args: Any, **kwargs: Any) -> bytes:
        if amt is not None:
            return self._count(self._raw.read(amt, *args, **kwargs))
        chunks = []  # read(None) must not hold a body that never ends
        while chunk := self._count(self._raw.read(1 << 16, *args, **kwargs)):
            chunks.append(chunk)
        return b"".join(chunks)

    def read1(self, amt: int | None = None, *args: Any, **kwargs: Any) -> bytes:
        return self._count(self._raw.read1(1 << 16 if amt is None else amt, *args, **kwargs))

    def stream(self, amt: int | None = 1 << 16, decode_content: bool | None = None) -> Iterator[bytes]:
        for chunk in self._raw.stream(amt, decode_content=decode_content):
            yield self._count(chunk)

    def __iter__(self) -> Iterator[bytes]:
        return self.stream()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # azure-core sets `enforce_content_length` on the response it gets: that is the wrapped one.
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._raw, name, value)


def load_json(body: bytes | str, op: str, *, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """`body` parsed, its nesting no deeper than `max_depth`; a `WorkspaceError` naming `op`
    otherwise (ValueError's text stays out: it quotes the body)."""
    try:
        doc = json.loads(body)
        deep = not _depth_within(doc, max_depth)
    except RecursionError:  # deeper than the interpreter's own limit: deeper than ours too
        deep = True
    except ValueError:
        raise WorkspaceError(f"{op}: the answer is not JSON") from None
    if deep:
        raise WorkspaceError(f"{op}: the answer nests deeper than {max_depth} levels")
    return doc


def _depth_within(doc: Any, limit: int) -> bool:
    # Iterative: a recursive walk would hit the very recursion limit this check guards.
    stack = [(doc, 1)] if isinstance(doc, (dict, list)) else []
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return False
        for child in value.values() if isinstance(value, dict) else value:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return True
