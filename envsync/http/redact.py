"""Keep credentials out of every message, log line, exception and repr envsync produces.

Bearer tokens, SAS signatures, Shared Key signatures, storage account keys and passwords can
reach text through URLs (a SAS rides in the query string, a password in the userinfo), through
exception messages of requests and urllib3 (which quote the URL they failed on) and through
response bodies (listSecrets).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

MASK = "<redacted>"
SAS_MASK = "<sas redacted>"

# Each pattern keeps its group 1 (the label) and masks the rest of the match.
_PATTERNS = (
    re.compile(r"(\bBearer\s+)[A-Za-z0-9\-._~+/=]+", re.IGNORECASE),
    re.compile(r"(\bSharedKey(?:Lite)?\s+[^:\s]+:)[A-Za-z0-9+/=]+", re.IGNORECASE),
    # Any URL query parameter that carries the signature of a SAS.
    re.compile(r"([?&;](?:amp;)?sig=)[^&\s'\"<>)]+", re.IGNORECASE),
    # Connection strings.
    re.compile(r"(\b(?:AccountKey|SharedAccessSignature|SharedAccessKey)=)[^;\s'\"]+", re.IGNORECASE),
    # JSON bodies such as listSecrets: {"key": "...", "sasToken": "..."}.
    re.compile(
        r"(\"(?:key|sasToken|accessToken|access_token|secret|clientSecret|password)\"\s*:\s*\")[^\"]*",
        re.IGNORECASE,
    ),
    re.compile(r"(\b(?:Authorization|x-ms-encryption-key)['\"]?\s*[:=]\s*['\"]?)[^'\",}\s]+", re.IGNORECASE),
    # URL userinfo (scheme://user:password@host): the '@' stays, so the host still shows.
    re.compile(r"(\b[a-z][a-z0-9+.\-]*://)[^\s/?#@'\"<>]+(?=@)", re.IGNORECASE),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every credential replaced by `<redacted>`.

    `secrets` are exact values known to be secret (a token, an account key): they are masked
    wherever they appear, even outside the shapes the patterns recognise.
    """
    for secret in secrets:
        if secret and len(secret) >= 8:  # a short value would mask ordinary words
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def redact_url(url: str) -> str:
    """`url` fit to print: its userinfo masked, a SAS query string shown as `?<sas redacted>`."""
    parts = urlsplit(url)
    if not _has_userinfo(parts.netloc) and not is_sas(parts.query):
        return url
    netloc = f"{MASK}@{parts.netloc.rpartition('@')[2]}" if _has_userinfo(parts.netloc) else parts.netloc
    query = SAS_MASK if is_sas(parts.query) else parts.query
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_identity(url: str) -> str:
    """`url` without its credentials (userinfo, SAS query string): what names the resource,
    whichever SAS or password reaches it today. Other URLs come back unchanged."""
    parts = urlsplit(url)
    if not _has_userinfo(parts.netloc) and not is_sas(parts.query):
        return url
    netloc = parts.netloc.rpartition("@")[2]
    query = "" if is_sas(parts.query) else parts.query
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# Query parameters that make a URL a credential: a SAS's signature and its fields (a SAS
# without `sig` is a broken one, still not for git), and the token parameters of other stores.
_CREDENTIAL_KEYS = frozenset(
    {"sig", "sv", "se", "skoid", "sktid", "token", "access_token", "code", "key", "password", "signature"}
    | {"x-amz-signature", "x-amz-credential", "x-amz-security-token", "x-goog-signature", "x-goog-credential"}
)


def is_sas(query: str) -> bool:
    """Whether a URL query string carries a credential: a shared access signature (`sig`, or
    any of its `sv`/`se`/`skoid`… fields), or another store's token or signature parameter."""
    return any(key.lower() in _CREDENTIAL_KEYS for key, _ in parse_qsl(query, keep_blank_values=True))


def _has_userinfo(netloc: str) -> bool:
    return "@" in netloc


def one_line(text: str, limit: int = 500) -> str:
    """Collapse whitespace so a message stays on one line; cut very long service messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message through `redact` (urllib3 logs full URLs with SAS)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: let logging report it as usual
            return True
        record.msg, record.args = redact(message), None
        return True


_installed: set[str] = set()


def install_log_redaction(names: Iterable[str] = ("urllib3.connectionpool", "urllib3.util.retry")) -> None:
    """Attach `RedactingFilter` to the loggers that print request URLs (once per logger)."""
    for name in names:
        if name not in _installed:
            logging.getLogger(name).addFilter(RedactingFilter())
            _installed.add(name)
