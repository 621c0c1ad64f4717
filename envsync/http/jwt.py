"""Bearer tokens for emulators: unsigned JWTs whose audience is the scope asked for.

Azurite (`--oauth basic`) and `envsync emulator --secrets-type None` check a storage token's
claims the way Azure Storage does (audience, issuer, lifetime) but never its signature, so a
test or a demo against them needs no Azure AD. Real services refuse these tokens; envsync hands
them out only when its ARM endpoint is a loopback address (an emulator).
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from envsync.http.session import StaticToken

ZERO_GUID = "00000000-0000-0000-0000-000000000000"
LIFETIME_S = 3600


def _segment(doc: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()


def unsigned_jwt(audience: str, *, now: int | None = None, lifetime: int = LIFETIME_S) -> str:
    """A JWT with `alg: none` and an empty signature, as Azure AD's v1 tokens are shaped."""
    issued = int(time.time()) if now is None else now
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{ZERO_GUID}/",
        "iat": issued,
        "nbf": issued - 60,
        "exp": issued + lifetime,
        "oid": ZERO_GUID,
        "tid": ZERO_GUID,
    }
    return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(claims)}."


def claims_of(token: str) -> dict[str, Any] | None:
    """The claims of a JWT, unverified; None when `token` is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        doc = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


class UnsignedJwtCredential:
    """A `TokenCredential` minting `unsigned_jwt`s: the audience is the scope without `/.default`."""

    def get_token(self, *scopes: str, **kwargs: Any) -> StaticToken:
        scope = scopes[0] if scopes else "https://storage.azure.com/.default"
        audience = scope.removesuffix("/.default")
        now = int(time.time())
        return StaticToken(unsigned_jwt(audience, now=now), now + LIFETIME_S)

    def __repr__(self) -> str:
        return "UnsignedJwtCredential()"
