"""Reading an answer's body within a total deadline.

A read timeout bounds each wait for the next bytes, not the whole body: a server trickling a
byte a second would hold a request for ever. The body is read with `read1` (whatever bytes
have arrived, at most one underlying read each), so that the deadline is checked between reads.
"""

from __future__ import annotations

import time

import requests
from urllib3 import exceptions as u3

CHUNK = 1 << 16


class BodyDeadline(requests.ReadTimeout):
    """An answer's body kept arriving, too slowly to end within its deadline."""

    def __init__(self, seconds: float):
        super().__init__(f"the answer did not arrive in full within {seconds:g}s")
        self.seconds = seconds


def read_within(response: requests.Response, seconds: float) -> None:
    """Read the body of a `stream=True` response into `response.content`, closing it and
    raising `requests.ReadTimeout` if the whole body has not arrived within `seconds`."""
    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    try:
        while True:
            chunk = response.raw.read1(CHUNK, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            if time.monotonic() > deadline:
                response.close()
                raise BodyDeadline(seconds)
    except requests.RequestException:
        raise  # BodyDeadline: an OSError too, but not the connection's failure
    except u3.ReadTimeoutError as e:
        raise requests.ReadTimeout(e) from e
    except (u3.ProtocolError, u3.DecodeError, OSError) as e:
        raise requests.ConnectionError(e) from e
    response._content = b"".join(chunks)
    response._content_consumed = True  # type: ignore[attr-defined]
    response.raw.release_conn()
