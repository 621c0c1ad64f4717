"""Keep credentials out of every message, log line, exception and repr envsync produces.

Bearer tokens, SAS signatures, Shared Key signatures and storage account keys can reach text
through URLs (a SAS rides in the query string), through exception messages of requests and
urllib3 (which quote the URL they failed on) and through response bodies (listSecrets).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "<redacted>"

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
